/** librdkafka configuration properties (see librdkafka's CONFIGURATION.md); values are passed as strings. */
export type KafkaConfig = Record<string, string | number | boolean>;

// Properties whose values must never appear in an error, a log line or a stream.
const SECRET = /(password|secret|\.pem$|\.key$|sasl\.oauthbearer\.config|_token$|\.token$)/i;

/** Whether a configuration property holds a secret (its value is redacted wherever text leaves us). */
export function isSecretKey(key: string): boolean {
  return SECRET.test(key);
}

/** Flattens a configuration into librdkafka's key/value pairs. */
export function flattenConfig(config: KafkaConfig): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(config)) {
    if (value === undefined) continue;
    out.push(key, String(value));
  }
  return out;
}

/** Returns a function that replaces every secret value of `config` found in a text by `[redacted]`. */
export function secretRedactor(config: KafkaConfig): (text: string) => string {
  const secrets = Object.entries(config)
    .filter(([key, value]) => isSecretKey(key) && String(value).length > 0)
    .map(([, value]) => String(value))
    .sort((a, b) => b.length - a.length);
  if (secrets.length === 0) return (text) => text;
  return (text) => {
    let out = text;
    for (const secret of secrets) out = out.split(secret).join('[redacted]');
    return out;
  };
}

/** A copy of `config` with secret values replaced, for logs and diagnostics. */
export function redactConfig(config: KafkaConfig): KafkaConfig {
  const out: KafkaConfig = {};
  for (const [key, value] of Object.entries(config)) out[key] = isSecretKey(key) ? '[redacted]' : value;
  return out;
}
