#pragma once
// A message's fields as the producer reads them from JS: bytes from a string or a Buffer (empty is empty,
// only null is null), and headers from a record (own enumerable keys), [name, value] pairs or repeated
// names. lib/producer/validate.ts checks the same shapes first; the two must agree.
#include <librdkafka/rdkafka.h>
#include <napi.h>

#include <string>

namespace kafka_fd {

// Copies a JS string into `scratch` or points into a Buffer; null/undefined: no bytes (a null pointer).
// False when the value is neither.
bool Bytes(Napi::Env env, const Napi::Value& v, std::string& scratch, const void** data, size_t* len);

// The message's headers (nullptr for none); throws a KafkaFdError for a malformed one.
rd_kafka_headers_t* BuildHeaders(Napi::Env env, const Napi::Value& headers, std::string& scratch);

}  // namespace kafka_fd
