#include "message_fields.h"

#include <memory>

#include "kafka_error.h"

namespace kafka_fd {

namespace {

// What an empty value points at: any non-null address, never read (its length is 0).
const char kEmpty[1] = {0};

// Appends one header; the value may be a string, a Buffer or null.
bool AddHeader(Napi::Env env, rd_kafka_headers_t* hdrs, const std::string& name, const Napi::Value& value,
               std::string& scratch) {
  const void* data;
  size_t len;
  if (!Bytes(env, value, scratch, &data, &len)) return false;
  rd_kafka_header_add(hdrs, name.data(), static_cast<ssize_t>(name.size()), data, static_cast<ssize_t>(len));
  return true;
}

}  // namespace

// Copies a JS string or Buffer into `scratch` (strings) or points into the Buffer; null/undefined: no bytes.
// librdkafka copies the bytes (RD_KAFKA_MSG_F_COPY), so the scratch is reused by the next call. One
// napi_typeof per value: this runs for every message.
bool Bytes(Napi::Env env, const Napi::Value& v, std::string& scratch, const void** data, size_t* len) {
  napi_valuetype type;
  napi_typeof(env, v, &type);
  if (type == napi_null || type == napi_undefined) {
    *data = nullptr;
    *len = 0;
    return true;
  }
  if (type == napi_object) {
    void* ptr;
    if (napi_get_buffer_info(env, v, &ptr, len) != napi_ok) return false;
    // A zero-length Buffer may have no memory behind it (a null pointer), and librdkafka reads a null
    // pointer as a null value or key (a tombstone). Empty is empty, whatever its shape.
    *data = *len == 0 ? kEmpty : ptr;
    return true;
  }
  if (type == napi_string) {
    size_t n = 0;
    napi_get_value_string_utf8(env, v, nullptr, 0, &n);
    scratch.resize(n + 1);
    napi_get_value_string_utf8(env, v, &scratch[0], n + 1, &n);
    *data = scratch.data();
    *len = n;
    return true;
  }
  return false;
}

// Headers as a record (values may be arrays for repeated names) or as an array of [name, value] pairs.
// (lib/producer/validate.ts turns a Map into pairs before it gets here.) Owned until returned: a getter
// that throws half-way must not leak what was built.
rd_kafka_headers_t* BuildHeaders(Napi::Env env, const Napi::Value& headers, std::string& scratch) {
  if (headers.IsUndefined() || headers.IsNull()) return nullptr;
  if (!headers.IsObject()) throw KafkaError(env, "ERR__INVALID_ARG", "message headers must be an object or an array of [name, value] pairs");
  std::unique_ptr<rd_kafka_headers_t, void (*)(rd_kafka_headers_t*)> hdrs(rd_kafka_headers_new(8), rd_kafka_headers_destroy);
  auto bad = [&](const std::string& why) { return KafkaError(env, "ERR__INVALID_ARG", why); };
  if (headers.IsArray()) {
    Napi::Array pairs = headers.As<Napi::Array>();
    for (uint32_t i = 0; i < pairs.Length(); i++) {
      Napi::Value pair = pairs.Get(i);
      if (!pair.IsArray() || pair.As<Napi::Array>().Length() != 2 || !pair.As<Napi::Array>().Get(0u).IsString())
        throw bad("each header pair must be [name: string, value: string | Buffer | null]");
      std::string name = pair.As<Napi::Array>().Get(0u).As<Napi::String>();
      if (!AddHeader(env, hdrs.get(), name, pair.As<Napi::Array>().Get(1u), scratch))
        throw bad("header '" + name + "' must be a string, a Buffer or null");
    }
    return hdrs.release();
  }
  // Own enumerable string keys only, as validate.ts checks them (GetPropertyNames would add inherited
  // ones: the two sides must agree on what a header is).
  Napi::Object record = headers.As<Napi::Object>();
  napi_value raw_names;
  if (napi_get_all_property_names(env, record, napi_key_own_only,
                                  static_cast<napi_key_filter>(napi_key_enumerable | napi_key_skip_symbols),
                                  napi_key_numbers_to_strings, &raw_names) != napi_ok)
    throw Napi::Error::New(env);
  Napi::Array names(env, raw_names);
  for (uint32_t i = 0; i < names.Length(); i++) {
    std::string name = names.Get(i).As<Napi::String>();
    Napi::Value value = record.Get(name);
    if (value.IsArray()) {
      Napi::Array values = value.As<Napi::Array>();
      for (uint32_t j = 0; j < values.Length(); j++) {
        if (!AddHeader(env, hdrs.get(), name, values.Get(j), scratch))
          throw bad("header '" + name + "' must be a string, a Buffer or null");
      }
    } else if (!AddHeader(env, hdrs.get(), name, value, scratch)) {
      throw bad("header '" + name + "' must be a string, a Buffer or null");
    }
  }
  return hdrs.release();
}

}  // namespace kafka_fd
