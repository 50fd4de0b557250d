#include "message_columns.h"

#include <algorithm>
#include <cstring>

namespace kafka_fd {

namespace {

napi_value BytesOrNull(Napi::Env env, bool null, const char* bytes, size_t size) {
  if (null) return env.Null();
  return Napi::Buffer<char>::Copy(env, bytes, size);
}

}  // namespace

MessageColumns ToColumns(Napi::Env env, const std::vector<const rd_kafka_message_t*>& messages) {
  const size_t n = messages.size();
  // A batch crosses as columns, not objects: every key and value copied into one buffer (JS slices views
  // of it, as Node's own buffer pool does), the numbers in one Float64Array, topic names once each, and
  // headers only for the messages that have some. One allocation per batch instead of one per field.
  size_t total = 0;
  for (size_t i = 0; i < n; i++) total += messages[i]->key_len + messages[i]->len;
  Napi::Buffer<uint8_t> bytes = Napi::Buffer<uint8_t>::New(env, std::max<size_t>(total, 1));
  Napi::ArrayBuffer meta_buffer = Napi::ArrayBuffer::New(env, n * kMessageMetaFields * sizeof(double));
  Napi::Float64Array meta = Napi::Float64Array::New(env, n * kMessageMetaFields, meta_buffer, 0);
  double* row = meta.Data();
  uint8_t* at = bytes.Data();
  Napi::Array names = Napi::Array::New(env);
  Napi::Value headers = env.Undefined();
  const rd_kafka_topic_t* last_topic = nullptr;
  uint32_t topic_index = 0;
  for (size_t i = 0; i < n; i++, row += kMessageMetaFields) {
    const rd_kafka_message_t* m = messages[i];
    if (m->rkt != last_topic) {
      last_topic = m->rkt;
      topic_index = names.Length();
      names.Set(topic_index, Napi::String::New(env, rd_kafka_topic_name(m->rkt)));
    }
    rd_kafka_timestamp_type_t type;
    row[0] = topic_index;
    row[1] = m->partition;
    row[2] = static_cast<double>(m->offset);  // exact up to 2^53
    row[3] = static_cast<double>(rd_kafka_message_timestamp(m, &type));
    // A length of -1: null (a zero-length key or value is an empty buffer).
    row[4] = static_cast<double>(at - bytes.Data());
    row[5] = m->key == nullptr ? -1 : static_cast<double>(m->key_len);
    if (m->key != nullptr) at = static_cast<uint8_t*>(memcpy(at, m->key, m->key_len)) + m->key_len;
    row[6] = static_cast<double>(at - bytes.Data());
    row[7] = m->payload == nullptr ? -1 : static_cast<double>(m->len);
    if (m->payload != nullptr) at = static_cast<uint8_t*>(memcpy(at, m->payload, m->len)) + m->len;
    rd_kafka_headers_t* hdrs = nullptr;
    // rd_kafka_message_headers parses the headers on first use: only messages that have some pay for it.
    if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR && hdrs != nullptr) {
      if (headers.IsUndefined()) headers = Napi::Array::New(env, n);
      Napi::Array pairs = Napi::Array::New(env, rd_kafka_header_cnt(hdrs));
      const char* name;
      const void* value;
      size_t size;
      for (size_t h = 0; rd_kafka_header_get_all(hdrs, h, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; h++) {
        Napi::Array pair = Napi::Array::New(env, 2);
        pair.Set(0u, Napi::String::New(env, name));
        pair.Set(1u, Napi::Value(env, BytesOrNull(env, value == nullptr, static_cast<const char*>(value), size)));
        pairs.Set(static_cast<uint32_t>(h), pair);
      }
      headers.As<Napi::Array>().Set(static_cast<uint32_t>(i), pairs);
    }
  }
  return {bytes, meta, names, headers};
}

}  // namespace kafka_fd
