// A batch's runs of plain messages (one topic and partition, no headers or timestamps) through
// rd_kafka_produce_batch: produceValues and the gathering of its chunks. The rest of the producer is producer.cc.
#include <algorithm>
#include <cstring>

#include "message_fields.h"
#include "producer.h"

namespace kafka_fd {

// produceValues(topic, values, keys | undefined, partition | undefined, firstId, count) -> how many were
// accepted, from the first: message i is (values[i], keys[i]) with id firstId + i. Stops at the first that
// librdkafka refuses (a full queue, say), that is not bytes, or that may be too large, and leaves it and the
// rest to the caller, which sends them one by one and so gets each one's own error. One call for the run,
// and librdkafka's batch call under it, kInlineServeEvery messages at a time: its enqueue costs a third of
// produceva's per message broker-free (bench:produce-path), less of a gain while a broker's threads take the
// same partition locks (each message is still partitioned and queued alone).
//
// rd_kafka_produce_batch goes on past a refused message. A full queue, a closing or fenced producer and an
// unknown topic or partition refuse every message after the first (librdkafka carries the error over); what
// refuses one message alone is its size, checked here first with room to spare. Should a message after a
// refused one be accepted all the same, nothing is sent twice or out of order: the run counts as accepted
// whole and the refused ones are reported as failed deliveries with their error.
Napi::Value Producer::ProduceValues(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (Stopped() || !info[1].IsArray()) return Napi::Number::New(env, 0);
  napi_value values = info[1], keys = info[2];
  bool has_keys = info[2].IsArray();
  int32_t partition = RD_KAFKA_PARTITION_UA;
  double first_id = 0, count = 0;
  napi_get_value_int32(env, info[3], &partition);
  napi_get_value_double(env, info[4], &first_id);
  napi_get_value_double(env, info[5], &count);
  rd_kafka_topic_t* rkt = TopicArg(env, info[0]);
  const uint32_t n = static_cast<uint32_t>(count);
  uint32_t accepted = 0;
  while (accepted < n) {
    // A handle scope per chunk: a run of 100,000 must not hold 100,000 element handles until the call returns.
    Napi::HandleScope scope(env);
    const uint32_t chunk = std::min<uint32_t>(n - accepted, kInlineServeEvery);
    const uint32_t gathered = GatherChunk(env, values, has_keys ? keys : nullptr, accepted, chunk, first_id);
    if (gathered == 0) break;
    int good = rd_kafka_produce_batch(rkt, partition, RD_KAFKA_MSG_F_COPY, batch_.data(), static_cast<int>(gathered));
    uint32_t leading = 0;
    while (leading < gathered && batch_[leading].err == RD_KAFKA_RESP_ERR_NO_ERROR) leading++;
    if (static_cast<uint32_t>(good) == leading) {
      in_flight_ += leading;
      accepted += leading;
      if (leading < gathered) break;
    } else {
      // Accepted past a refused message (not seen; see above): the run is in flight whole, the refused ones
      // fail through the report queue like any failed delivery.
      for (uint32_t i = 0; i < gathered; i++) {
        if (batch_[i].err == RD_KAFKA_RESP_ERR_NO_ERROR) continue;
        reports_.Push(Report{static_cast<double>(reinterpret_cast<uintptr_t>(batch_[i]._private)), batch_[i].err,
                             RD_KAFKA_PARTITION_UA, static_cast<double>(RD_KAFKA_OFFSET_INVALID), -1});
      }
      in_flight_ += gathered;
      accepted += gathered;
      Schedule();
    }
    if (gathered < chunk) break;
    // As AfterProduce does every kInlineServeEvery messages: serve now if reports wait, the others now and then.
    if (poller_) {
      if (HasQueuedEvents()) ServeInline();
      AfterInlineWork(gathered);
    }
  }
  KeepAliveIf(in_flight_ > 0);
  return Napi::Number::New(env, accepted);
}

// Fills batch_ with messages [from, from + max) of the columns; stops early at a value or key that is not
// bytes or at a message that may be over message.max.bytes. String bytes go to one arena, pointed at once
// it stops growing; Buffers are pointed at where they are (nothing runs JS meanwhile).
uint32_t Producer::GatherChunk(Napi::Env env, napi_value values, napi_value keys, uint32_t from, uint32_t max,
                               double first_id) {
  batch_.resize(max);
  arena_.clear();
  struct Span {
    size_t offset;  // into arena_, or SIZE_MAX: `data` is the pointer
    const void* data;
    size_t len;
  };
  Span spans[2 * kInlineServeEvery];
  uint32_t i = 0;
  for (; i < max; i++) {
    napi_value v, k = nullptr;
    if (napi_get_element(env, values, from + i, &v) != napi_ok) break;
    if (keys != nullptr && napi_get_element(env, keys, from + i, &k) != napi_ok) break;
    Span* pair = &spans[2 * i];
    bool ok = true;
    for (int part = 0; part < 2 && ok; part++) {
      napi_value x = part == 0 ? v : k;
      Span& span = pair[part];
      span = Span{SIZE_MAX, nullptr, 0};
      if (x == nullptr) continue;
      const void* data;
      size_t len;
      ok = Bytes(env, Napi::Value(env, x), value_scratch_, &data, &len);
      if (!ok) break;
      span.len = len;
      if (data == value_scratch_.data()) {
        span.offset = arena_.size();
        arena_.append(value_scratch_.data(), len);
      } else {
        span.data = data;
      }
    }
    if (!ok || pair[0].len + pair[1].len + kWireOverhead > max_message_bytes_) break;
  }
  for (uint32_t j = 0; j < i; j++) {
    rd_kafka_message_t& m = batch_[j];
    memset(&m, 0, sizeof(m));
    const Span& value = spans[2 * j];
    const Span& key = spans[2 * j + 1];
    m.payload = const_cast<void*>(value.offset == SIZE_MAX ? value.data : arena_.data() + value.offset);
    m.len = value.len;
    m.key = const_cast<void*>(key.offset == SIZE_MAX ? key.data : arena_.data() + key.offset);
    m.key_len = key.len;
    m._private = reinterpret_cast<void*>(static_cast<uintptr_t>(first_id + from + j));
  }
  return i;
}

}  // namespace kafka_fd
