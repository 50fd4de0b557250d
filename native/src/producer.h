#pragma once
// NativeProducer: a Client (client.h) that produces. Its own part is producing (bound produce functions over
// produceva, runs of a batch over produce_batch, topic handles cached and known to JS by index), delivery
// reports (dr_msg_cb only appends to `reports_`; Dispatch hands JS batches through typed arrays that JS
// allocated once) and transactions (on the threadpool).
#include <librdkafka/rdkafka.h>
#include <napi.h>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "client.h"
#include "report_queue.h"

namespace kafka_fd {

class Producer : public ClientWrap<Producer> {
 public:
  static Napi::Function Init(Napi::Env env);

  // new NativeProducer(config: string[] (key, value, ...), sink: { onBatch, onEvent, ids, errs,
  //                    partitions, offsets, timestamps })
  explicit Producer(const Napi::CallbackInfo& info);
  ~Producer() override;

  void OnDelivery(const rd_kafka_message_t* message);  // dr_msg_cb, any thread that serves

 protected:
  void Configure(rd_kafka_conf_t* conf) override;
  bool DispatchOwn(Napi::Env env, Napi::Object recv, size_t max, PollerMetrics* metrics, Dispatched* out) override;
  bool HasOwnPending() override { return reports_.Size() > 0; }
  bool Busy() override { return in_flight_ > 0; }
  void BeforeDestroy() override;   // purge what is left; its reports are queued for JS
  void ReleaseHandles() override;  // the cached topic handles
  void OnDestroyed() override { in_flight_ = 0; }

 private:
  Napi::Value BindProduce(const Napi::CallbackInfo& info);  // (plain) -> produce bound to this producer
  template <size_t N>
  static napi_value CallBound(napi_env env, napi_callback_info info, bool plain);
  static napi_value BoundProduce(napi_env env, napi_callback_info info);
  static napi_value BoundProducePlain(napi_env env, napi_callback_info info);
  Napi::Value ProduceValues(const Napi::CallbackInfo& info);  // a batch of one topic, as columns
  Napi::Value Topic(const Napi::CallbackInfo& info);          // (name) -> index for the produce calls
  uint32_t GatherChunk(Napi::Env env, napi_value values, napi_value keys, uint32_t from, uint32_t max, double first_id);
  napi_value ProduceArgs(napi_env env, const napi_value* args, bool plain);
  Napi::Value OutqLen(const Napi::CallbackInfo& info);
  Napi::Value Txn(const Napi::CallbackInfo& info);  // (op: TxnOp, timeoutMs)

  // Queues one message; returns librdkafka's error (0 when accepted). Empty `headers`: none.
  rd_kafka_resp_err_t ProduceOne(Napi::Env env, rd_kafka_topic_t* rkt, int32_t partition,
                                 const Napi::Value& value, const Napi::Value& key, const Napi::Value& headers,
                                 int64_t timestamp, double id);
  void AfterProduce();
  rd_kafka_topic_t* TopicFor(Napi::Env env, const Napi::Value& topic);  // cached topic handles, by name
  rd_kafka_topic_t* TopicArg(Napi::Env env, napi_value topic);            // by index or name

  ReportQueue reports_;
  struct TopicHandle {
    rd_kafka_topic_t* rkt;
    int32_t index;  // in topic_list_
  };
  std::unordered_map<std::string, TopicHandle> topics_;
  std::vector<rd_kafka_topic_t*> topic_list_;  // by the index topic() gave JS
  rd_kafka_topic_t* last_topic_ = nullptr;
  std::string last_topic_name_;

  // Where DispatchOwn writes; the typed arrays live in JS (the sink keeps them alive).
  Napi::FunctionReference on_batch_;
  double* ids_ = nullptr;
  int32_t* errs_ = nullptr;
  int32_t* partitions_ = nullptr;
  double* offsets_ = nullptr;
  double* timestamps_ = nullptr;

  static constexpr uint32_t kInlineServeEvery = 64;  // a power of two
  uint32_t produced_since_serve_ = 0;
  // Where a string value, key or header is copied for librdkafka (which copies it again): reused, JS thread only.
  std::string value_scratch_, key_scratch_, header_scratch_;
  // produceValues' chunk for rd_kafka_produce_batch, and the string bytes its messages point at.
  std::vector<rd_kafka_message_t> batch_;
  std::string arena_;
  // message.max.bytes, and what librdkafka adds to a message's key and value before comparing with it (at
  // most a few dozen bytes: more than enough). A message that may be too large goes by the single call.
  size_t max_message_bytes_ = 1000000;
  static constexpr size_t kWireOverhead = 256;
  int64_t in_flight_ = 0;  // accepted by produce, report not yet handed to JS
};

}  // namespace kafka_fd
