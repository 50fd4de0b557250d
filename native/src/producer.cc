#include "producer.h"

#include "addon.h"
#include "consumer.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "kafka_error.h"
#include "message_fields.h"
#include "partition_list.h"
#include "poller.h"
#include "transaction.h"
#include "util/js_call.h"

namespace kafka_fd {

namespace {

void DeliveryCallback(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  static_cast<Producer*>(static_cast<Client*>(opaque))->OnDelivery(message);
}

template <typename T>
T* TypedArrayData(Napi::Object sink, const char* key, size_t* length) {
  Napi::Value v = sink.Get(key);
  if (!v.IsTypedArray()) throw Napi::TypeError::New(sink.Env(), std::string("sink.") + key + " must be a typed array");
  auto array = v.As<Napi::TypedArrayOf<T>>();
  *length = array.ElementLength();
  return array.Data();
}

}  // namespace

Napi::Function Producer::Init(Napi::Env env) {
  std::vector<Method> methods = ClientMethods();
  methods.push_back(InstanceMethod("bindProduce", &Producer::BindProduce));
  methods.push_back(InstanceMethod("topic", &Producer::Topic));
  methods.push_back(InstanceMethod("produceValues", &Producer::ProduceValues));
  methods.push_back(InstanceMethod("outqLen", &Producer::OutqLen));
  methods.push_back(InstanceMethod("txn", &Producer::Txn));
  return DefineClass(env, "NativeProducer", methods);
}

Producer::Producer(const Napi::CallbackInfo& info) : ClientWrap<Producer>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsArray() || !info[1].IsObject())
    throw Napi::TypeError::New(env, "NativeProducer(config: string[], sink: object)");
  Napi::Object sink = info[1].As<Napi::Object>();
  on_batch_ = Napi::Weak(sink.Get("onBatch").As<Napi::Function>());
  held_.push_back(&on_batch_);
  size_t n1, n2, n3, n4, n5;
  ids_ = TypedArrayData<double>(sink, "ids", &n1);
  errs_ = TypedArrayData<int32_t>(sink, "errs", &n2);
  partitions_ = TypedArrayData<int32_t>(sink, "partitions", &n3);
  offsets_ = TypedArrayData<double>(sink, "offsets", &n4);
  timestamps_ = TypedArrayData<double>(sink, "timestamps", &n5);
  capacity_ = std::min(std::min(std::min(n1, n2), std::min(n3, n4)), n5);
  Open(env, info[0], sink, RD_KAFKA_PRODUCER, "KafkaFdProducer");
  char max_bytes[32];
  size_t size = sizeof(max_bytes);
  if (rd_kafka_conf_get(rd_kafka_conf(rk_), "message.max.bytes", max_bytes, &size) == RD_KAFKA_CONF_OK)
    max_message_bytes_ = std::strtoull(max_bytes, nullptr, 10);
}

Producer::~Producer() {
  Drop();
}

void Producer::Configure(rd_kafka_conf_t* conf) {
  rd_kafka_conf_set_dr_msg_cb(conf, DeliveryCallback);
}

// Off the JS thread (close) or at teardown: what is left fails with ERR__PURGE_*; serving the queue once
// more puts those reports with the others, for JS to take with dispatchPending().
void Producer::BeforeDestroy() {
  rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  while (rd_kafka_poll(rk_, 0) > 0) {
  }
}

void Producer::ReleaseHandles() {
  for (auto& entry : topics_) rd_kafka_topic_destroy(entry.second.rkt);
  topics_.clear();
  topic_list_.clear();
  last_topic_ = nullptr;
}

bool Producer::DispatchOwn(Napi::Env env, Napi::Object recv, size_t max, PollerMetrics* metrics, Dispatched* out) {
  size_t n = reports_.Take(max, ids_, errs_, partitions_, offsets_, timestamps_);
  if (n == 0) return true;
  in_flight_ -= static_cast<int64_t>(n);
  out->reports = n;
  CountBatch(metrics, n);
  napi_value count = Napi::Number::New(env, static_cast<double>(n));
  return CallJs(env, recv, on_batch_.Value(), 1, &count, *async_context_);
}

void Producer::OnDelivery(const rd_kafka_message_t* m) {
  rd_kafka_timestamp_type_t type;
  int64_t ts = rd_kafka_message_timestamp(m, &type);
  reports_.Push(Report{static_cast<double>(reinterpret_cast<uintptr_t>(m->_private)), m->err, m->partition,
                       static_cast<double>(m->offset), static_cast<double>(ts)});
}

void Producer::AfterProduce() {
  // A synchronous produce loop does not turn the event loop: serve here (native only, the callbacks just
  // append) so librdkafka frees its messages and queue space as acks arrive. JS gets the batch on the next
  // loop turn. The other clients of the poller are checked now and then too (AfterInlineWork): an
  // application that fills 25 producers in turn would otherwise leave the first 24 unserved until the loop
  // yields. Checked every kInlineServeEvery messages, not after each: the check takes the queue's lock, and
  // a serve per message costs more than it frees.
  if ((++produced_since_serve_ & (kInlineServeEvery - 1)) == 0 && HasQueuedEvents()) ServeInline();
  AfterInlineWork();
}

rd_kafka_topic_t* Producer::TopicFor(Napi::Env env, const Napi::Value& topic) {
  // Kafka topic names are at most 249 bytes: one call into a stack buffer, then the last topic or the
  // cache, so neither librdkafka's lookup by name nor a string allocation happens per message.
  char name[256];
  size_t len = 0;
  if (napi_get_value_string_utf8(env, topic, name, sizeof(name), &len) != napi_ok || len == 0 || len >= sizeof(name) - 1)
    throw KafkaError(env, "ERR__INVALID_ARG", "message topic must be a Kafka topic name (1 to 249 characters)");
  if (last_topic_ != nullptr && last_topic_name_.size() == len && memcmp(last_topic_name_.data(), name, len) == 0)
    return last_topic_;
  last_topic_name_.assign(name, len);
  auto it = topics_.find(last_topic_name_);
  if (it != topics_.end()) return last_topic_ = it->second.rkt;
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk_, last_topic_name_.c_str(), nullptr);
  if (rkt == nullptr) {
    rd_kafka_resp_err_t err = rd_kafka_last_error();
    last_topic_ = nullptr;
    throw KafkaError(env, err, std::string("topic '") + last_topic_name_ + "': " + rd_kafka_err2str(err));
  }
  topics_.emplace(last_topic_name_, TopicHandle{rkt, static_cast<int32_t>(topic_list_.size())});
  topic_list_.push_back(rkt);
  return last_topic_ = rkt;
}

// A topic as JS passes it: the index topic() gave (no string to read: the name's conversion was a twentieth
// of the JS thread's time in a produce burst, measured), or the name.
rd_kafka_topic_t* Producer::TopicArg(Napi::Env env, napi_value topic) {
  int32_t index;
  if (napi_get_value_int32(env, topic, &index) == napi_ok) {
    if (index < 0 || static_cast<size_t>(index) >= topic_list_.size())
      throw KafkaError(env, "ERR__INVALID_ARG", "unknown topic index");
    return topic_list_[index];
  }
  return TopicFor(env, Napi::Value(env, topic));
}

// topic(name) -> the index produce calls may pass instead of the name; -1 once the producer is closing.
Napi::Value Producer::Topic(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (Stopped()) return Napi::Number::New(env, -1);
  TopicFor(env, info[0]);
  return Napi::Number::New(env, topics_.find(last_topic_name_)->second.index);
}

rd_kafka_resp_err_t Producer::ProduceOne(Napi::Env env, rd_kafka_topic_t* rkt, int32_t partition,
                                         const Napi::Value& value, const Napi::Value& key,
                                         const Napi::Value& headers, int64_t timestamp, double id) {
  const void *vdata, *kdata;
  size_t vlen, klen;
  if (!Bytes(env, value, value_scratch_, &vdata, &vlen))
    throw KafkaError(env, "ERR__INVALID_ARG", "message value must be a string, a Buffer or null");
  if (!Bytes(env, key, key_scratch_, &kdata, &klen))
    throw KafkaError(env, "ERR__INVALID_ARG", "message key must be a string, a Buffer or null");
  rd_kafka_headers_t* hdrs = headers.IsEmpty() ? nullptr : BuildHeaders(env, headers, header_scratch_);

  rd_kafka_vu_t vus[8];
  size_t n = 0;
  vus[n].vtype = RD_KAFKA_VTYPE_RKT;
  vus[n++].u.rkt = rkt;
  vus[n].vtype = RD_KAFKA_VTYPE_PARTITION;
  vus[n++].u.i32 = partition;
  vus[n].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
  vus[n++].u.i = RD_KAFKA_MSG_F_COPY;
  vus[n].vtype = RD_KAFKA_VTYPE_VALUE;
  vus[n].u.mem.ptr = const_cast<void*>(vdata);
  vus[n++].u.mem.size = vlen;
  vus[n].vtype = RD_KAFKA_VTYPE_KEY;
  vus[n].u.mem.ptr = const_cast<void*>(kdata);
  vus[n++].u.mem.size = klen;
  vus[n].vtype = RD_KAFKA_VTYPE_OPAQUE;
  vus[n++].u.ptr = reinterpret_cast<void*>(static_cast<uintptr_t>(id));
  if (timestamp > 0) {
    vus[n].vtype = RD_KAFKA_VTYPE_TIMESTAMP;
    vus[n++].u.i64 = timestamp;
  }
  if (hdrs != nullptr) {
    vus[n].vtype = RD_KAFKA_VTYPE_HEADERS;
    vus[n++].u.headers = hdrs;
  }
  rd_kafka_error_t* error = rd_kafka_produceva(rk_, vus, n);
  if (error == nullptr) {
    in_flight_++;
    return RD_KAFKA_RESP_ERR_NO_ERROR;
  }
  rd_kafka_resp_err_t err = rd_kafka_error_code(error);
  rd_kafka_error_destroy(error);
  if (hdrs != nullptr) rd_kafka_headers_destroy(hdrs);  // librdkafka owns them only on success
  return err;
}

// A bound produce call (bindProduce): `plain` is (topic, value, key, id), the full form is (topic, partition,
// value, key, headers, timestamp, id). Topic: an index from topic() or a name. Returns librdkafka's error
// code (0: accepted); throws a KafkaFdError for a value, key or header that is not bytes.
napi_value Producer::ProduceArgs(napi_env env, const napi_value* args, bool plain) {
  Napi::Env e(env);
  if (Stopped()) return Napi::Number::New(e, RD_KAFKA_RESP_ERR__STATE);
  // JS passes numbers or undefined; a failed conversion (undefined) leaves the default.
  int32_t partition = RD_KAFKA_PARTITION_UA;
  int64_t timestamp = 0;
  double id = 0;
  rd_kafka_resp_err_t err;
  if (plain) {
    napi_get_value_double(env, args[3], &id);
    err = ProduceOne(e, TopicArg(env, args[0]), partition, Napi::Value(env, args[1]), Napi::Value(env, args[2]),
                     Napi::Value(), timestamp, id);
  } else {
    napi_get_value_int32(env, args[1], &partition);
    napi_get_value_int64(env, args[5], &timestamp);
    napi_get_value_double(env, args[6], &id);
    err = ProduceOne(e, TopicArg(env, args[0]), partition, Napi::Value(env, args[2]), Napi::Value(env, args[3]),
                     Napi::Value(env, args[4]), timestamp, id);
  }
  if (poller_ && err == RD_KAFKA_RESP_ERR_NO_ERROR) AfterProduce();
  KeepAliveIf(in_flight_ > 0);
  return Napi::Number::New(e, err);
}

// bindProduce(plain) -> produce bound to this producer through the function's data, so that a call does
// not look the wrapper up on `this` (napi_unwrap reads a private property: a sixth of the call, measured);
// `plain` binds the four-argument form. The function holds the wrapper (its `owner` property), so the
// producer it points at lives as long as the function.
Napi::Value Producer::BindProduce(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  napi_value fn;
  napi_callback cb = info[0].ToBoolean().Value() ? &Producer::BoundProducePlain : &Producer::BoundProduce;
  NAPI_THROW_IF_FAILED(env, napi_create_function(env, "produce", NAPI_AUTO_LENGTH, cb, this, &fn), Napi::Value());
  Napi::Function(env, fn).Set("owner", Value());
  return Napi::Value(env, fn);
}

template <size_t N>
napi_value Producer::CallBound(napi_env env, napi_callback_info info, bool plain) {
  size_t argc = N;
  napi_value args[N];
  void* data = nullptr;
  if (napi_get_cb_info(env, info, &argc, args, nullptr, &data) != napi_ok) return nullptr;
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  for (size_t i = argc; i < N; i++) args[i] = undefined;
  try {
    return static_cast<Producer*>(data)->ProduceArgs(env, args, plain);
  } catch (const Napi::Error& e) {
    e.ThrowAsJavaScriptException();
    return nullptr;
  }
}

napi_value Producer::BoundProduce(napi_env env, napi_callback_info info) {
  return CallBound<7>(env, info, false);
}

napi_value Producer::BoundProducePlain(napi_env env, napi_callback_info info) {
  return CallBound<4>(env, info, true);
}

Napi::Value Producer::OutqLen(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), rk_ == nullptr ? 0 : rd_kafka_outq_len(rk_));
}

Napi::Value Producer::Txn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (Stopped()) throw KafkaError(env, "ERR__STATE", "the producer is closed");
  int op = info[0].As<Napi::Number>().Int32Value();
  if (op < 0 || op > 4) throw KafkaError(env, "ERR__INVALID_ARG", "unknown transaction operation");
  int timeout_ms = info[1].As<Napi::Number>().Int32Value();
  if (static_cast<TxnOp>(op) == TxnOp::kSendOffsets) {
    // (op, timeoutMs, consumer: NativeConsumer, topics, partitions, offsets): JS checked the arrays.
    Napi::Object target = info[2].As<Napi::Object>();
    if (!target.InstanceOf(env.GetInstanceData<Addon>()->consumer_ctor.Value())) {
      throw KafkaError(env, "ERR__INVALID_ARG", "send_offsets_to_transaction takes a Consumer");
    }
    rd_kafka_consumer_group_metadata_t* group = Napi::ObjectWrap<Consumer>::Unwrap(target)->GroupMetadata();
    if (group == nullptr) throw KafkaError(env, "ERR__STATE", "the consumer is closed: its offsets cannot join a transaction");
    rd_kafka_topic_partition_list_t* offsets = PartitionList(info, 3, true);
    return RunTxnOp(env, SelfValue(), rk_, TxnOp::kSendOffsets, timeout_ms, &blocking_calls_, [this]() { Schedule(); }, offsets, group);
  }
  // A commit flushes on the threadpool, where delivery reports may be served: once it is done, the poller
  // hands JS whatever that left in the report queue.
  return RunTxnOp(env, SelfValue(), rk_, static_cast<TxnOp>(op), timeout_ms, &blocking_calls_, [this]() { Schedule(); });
}

}  // namespace kafka_fd
