#pragma once
// A batch of consumed messages as the columns JS reads (lib/consumer/messages.ts): every key and value in
// one buffer, the numbers of each message in a row of a Float64Array, topic names once each, headers only
// for the messages that have some.
#include <librdkafka/rdkafka.h>
#include <napi.h>

#include <vector>

namespace kafka_fd {

// A row: topic index, partition, offset, timestamp, key at, key length, value at, value length (-1: null).
constexpr size_t kMessageMetaFields = 8;

struct MessageColumns {
  Napi::Buffer<uint8_t> bytes;
  Napi::Float64Array meta;
  Napi::Array names;
  Napi::Value headers;  // undefined, or per message undefined or [name, Buffer | null] pairs
};

// Copies the messages' bytes and numbers into JS values; the messages stay the caller's.
MessageColumns ToColumns(Napi::Env env, const std::vector<const rd_kafka_message_t*>& messages);

}  // namespace kafka_fd
