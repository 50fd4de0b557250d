#include "producer.h"

#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "kafka_error.h"
#include "util/js_call.h"
#include "poller.h"
#include "thread_poll.h"
#include "transaction.h"

namespace kafka_fd {

namespace {

void DeliveryCallback(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  static_cast<Producer*>(opaque)->OnDelivery(message);
}
void ErrorCallback(rd_kafka_t*, int err, const char* reason, void* opaque) {
  static_cast<Producer*>(opaque)->OnError(err, reason);
}
int StatsCallback(rd_kafka_t*, char* json, size_t len, void* opaque) {
  static_cast<Producer*>(opaque)->OnStats(json, len);
  return 0;  // librdkafka frees the JSON
}
void LogCallback(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
  static_cast<Producer*>(rd_kafka_opaque(rk))->OnLog(level, fac, buf);
}

// What an empty value points at: any non-null address, never read (its length is 0).
const char kEmpty[1] = {0};

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

// Appends one header; the value may be a string, a Buffer or null.
bool AddHeader(Napi::Env env, rd_kafka_headers_t* hdrs, const std::string& name, const Napi::Value& value,
               std::string& scratch) {
  const void* data;
  size_t len;
  if (!Bytes(env, value, scratch, &data, &len)) return false;
  rd_kafka_header_add(hdrs, name.data(), static_cast<ssize_t>(name.size()), data, static_cast<ssize_t>(len));
  return true;
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

template <typename T>
T* TypedArrayData(Napi::Object sink, const char* key, size_t* length) {
  Napi::Value v = sink.Get(key);
  if (!v.IsTypedArray()) throw Napi::TypeError::New(sink.Env(), std::string("sink.") + key + " must be a typed array");
  auto array = v.As<Napi::TypedArrayOf<T>>();
  *length = array.ElementLength();
  return array.Data();
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
// Close off the JS thread: stop the poll thread (thread mode), purge what is left, serve the purge reports
// into the queue, destroy. JS gets the remaining reports when it resolves.

class CloseWorker : public Napi::AsyncWorker {
 public:
  CloseWorker(Napi::Env env, Producer* producer)
      : Napi::AsyncWorker(env, "kafka-fd-close"),
        producer_(producer),
        keep_alive_(Napi::Persistent(producer->Value())),
        promise_(env) {}

  Napi::Value Promise() { return Napi::Value(Env(), promise_.promise()); }

  void Execute() override {
    if (producer_->thread_) producer_->thread_->Stop();
    rd_kafka_purge(producer_->rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    while (rd_kafka_poll(producer_->rk_, 0) > 0) {
    }
    producer_->DestroyTopics();
    rd_kafka_queue_destroy(producer_->main_queue_);
    rd_kafka_destroy(producer_->rk_);
  }

  void OnOK() override {
    Napi::HandleScope scope(Env());
    producer_->rk_ = nullptr;
    producer_->main_queue_ = nullptr;
    producer_->destroyed_ = true;
    if (producer_->thread_) producer_->thread_->ReleaseTsfn();
    // What is left (the purge reports among it) stays queued: JS takes it with dispatchPending(), a batch
    // per loop turn, so that a purge of a million messages does not make one long turn.
    producer_->UpdateKeepAlive();
    promise_.Resolve();
  }

  void OnError(const Napi::Error& e) override { promise_.Reject(e.Value()); }

 private:
  Producer* producer_;
  Napi::ObjectReference keep_alive_;  // the producer may not be collected while this runs
  JsPromise promise_;
};

// ---------------------------------------------------------------------------------------------------------

Napi::Function Producer::Init(Napi::Env env) {
  return DefineClass(env, "NativeProducer",
                     {
                         InstanceMethod("attach", &Producer::Attach),
                         InstanceMethod("produce", &Producer::Produce),
                         InstanceMethod("produceBatch", &Producer::ProduceBatch),
                         InstanceMethod("outqLen", &Producer::OutqLen),
                         InstanceMethod("close", &Producer::Close),
                         InstanceMethod("name", &Producer::Name),
                         InstanceMethod("testFatalError", &Producer::TestFatalError),
                         InstanceMethod("dispatchPending", &Producer::DispatchPending),
                         InstanceMethod("txn", &Producer::Txn),
                     });
}

Producer::Producer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Producer>(info) {
  Napi::Env env = info.Env();
  state_ = Addon::State(env);
  if (info.Length() < 2 || !info[0].IsArray() || !info[1].IsObject())
    throw Napi::TypeError::New(env, "NativeProducer(config: string[], sink: object)");

  Napi::Object sink = info[1].As<Napi::Object>();
  // Weak while nothing is in flight: the sink's callbacks close over the JS Producer, which holds this
  // object, so strong references would make a cycle through a GC root and no Producer would ever be
  // collected (nor its dropped rd_kafka_t destroyed). UpdateKeepAlive makes them strong while messages
  // are in flight, so that their promises always settle.
  sink_ = Napi::Weak(sink);
  on_batch_ = Napi::Weak(sink.Get("onBatch").As<Napi::Function>());
  on_event_ = Napi::Weak(sink.Get("onEvent").As<Napi::Function>());
  size_t n1, n2, n3, n4, n5;
  ids_ = TypedArrayData<double>(sink, "ids", &n1);
  errs_ = TypedArrayData<int32_t>(sink, "errs", &n2);
  partitions_ = TypedArrayData<int32_t>(sink, "partitions", &n3);
  offsets_ = TypedArrayData<double>(sink, "offsets", &n4);
  timestamps_ = TypedArrayData<double>(sink, "timestamps", &n5);
  capacity_ = std::min(std::min(std::min(n1, n2), std::min(n3, n4)), n5);
  async_context_ = std::make_unique<Napi::AsyncContext>(env, "KafkaFdProducer");

  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  Napi::Array config = info[0].As<Napi::Array>();
  for (uint32_t i = 0; i + 1 < config.Length(); i += 2) {
    std::string key = config.Get(i).ToString();
    std::string value = config.Get(i + 1).ToString();
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      // Name the key as given: librdkafka names aliases by their canonical name (linger.ms -> queue.buffering.max.ms).
      throw KafkaError(env, "ERR__INVALID_ARG", "configuration '" + key + "': " + errstr);
    }
  }
  // Logs are served with everything else by whoever serves the main queue, never on librdkafka's threads.
  rd_kafka_conf_set(conf, "log.queue", "true", errstr, sizeof(errstr));
  rd_kafka_conf_set_opaque(conf, this);
  rd_kafka_conf_set_dr_msg_cb(conf, DeliveryCallback);
  rd_kafka_conf_set_error_cb(conf, ErrorCallback);
  rd_kafka_conf_set_stats_cb(conf, StatsCallback);
  rd_kafka_conf_set_log_cb(conf, LogCallback);

  rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  if (rk_ == nullptr) {
    rd_kafka_conf_destroy(conf);
    throw KafkaError(env, "ERR__INVALID_ARG", errstr);
  }
  rd_kafka_set_log_queue(rk_, nullptr);
  main_queue_ = rd_kafka_queue_get_main(rk_);
  state_->closables.insert(this);
}

Producer::~Producer() {
  if (!destroyed_) {
    // Dropped without close(): nothing was in flight (in-flight messages keep this object alive), so
    // there is nothing to report. Detach here; destroy on a thread of its own, never in the finalizer.
    // Thread mode: joining the poll thread can take a poll timeout, so that happens on the destroying thread
    // too; the JS calls it already queued become no-ops first.
    closing_ = true;
    Detach();
    DestroyTopics();
    std::unique_ptr<PollThread> thread = std::move(thread_);
    if (thread) thread->Disown();
    rd_kafka_t* rk = rk_;
    rd_kafka_queue_t* q = main_queue_;
    rk_ = nullptr;
    destroyed_ = true;
    auto destroy = [rk, q, thread = std::move(thread)]() mutable {
      thread.reset();  // stops and joins the poll thread
      rd_kafka_queue_destroy(q);
      rd_kafka_destroy(rk);
    };
    if (!state_->tearing_down) std::thread(std::move(destroy)).detach();
    else destroy();
  }
  state_->closables.erase(this);
}

Napi::Value Producer::Attach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (poller_ || thread_) throw KafkaError(env, "ERR__STATE", "producer is already attached to a poller");
  if (info.Length() > 0 && info[0].IsObject()) {
    Poller* poller = Napi::ObjectWrap<Poller>::Unwrap(info[0].As<Napi::Object>());
    event_fd_ = std::make_unique<EventFd>();
    if (!event_fd_->ok()) throw KafkaError(env, "ERR__FAIL", std::string("eventfd failed: ") + strerror(errno));
    poller_ = poller->core();
    rd_kafka_queue_io_event_enable(main_queue_, event_fd_->fd(), EventFd::Payload(), EventFd::PayloadSize());
    poller_->Add(this, poll_.Allocate(), event_fd_->fd());
  } else {
    thread_ = std::make_unique<PollThread>(env, rk_, [this] {
      // A bounded number of batches per JS call, like the poller's turn budget; what is left is handed over
      // by another call, after the event loop has turned.
      Napi::HandleScope scope(sink_.Env());
      for (int i = 0; i < kThreadBatchesPerCall && Dispatch(capacity_) > 0; i++) {
      }
    }, [this] { return HasPending(); });
  }
  return env.Undefined();
}

void Producer::OnReadable() {
  event_fd_->Drain();
  poller_->metrics.wakeups++;
  needs_serve = true;
  poller_->Schedule(this);
}

bool Producer::ServeNative(uint64_t deadline_ns) {
  if (rk_ == nullptr || closing_) {
    needs_serve = false;
    return true;
  }
  last_serve_ns = NowNs();
  poller_->metrics.serves++;
  while (true) {
    int served = rd_kafka_poll(rk_, 0);
    poller_->metrics.events += served;
    if (served == 0) {
      needs_serve = false;
      return true;
    }
    if (NowNs() >= deadline_ns) {
      needs_serve = true;
      return false;
    }
  }
}

void Producer::AfterProduce() {
  // A synchronous produce loop does not turn the event loop: serve here (native only, the callbacks just
  // append) so librdkafka frees its messages and queue space as acks arrive. JS gets the batch on the next
  // loop turn. The producers that share the poller are checked now and then too: an application that fills
  // 25 producers in turn would otherwise leave the first 24 unserved until the loop yields.
  // Checked every kInlineServeEvery messages, not after each: the check takes the queue's lock, and a serve
  // per message costs more than it frees.
  if ((++produced_since_serve_ & (kInlineServeEvery - 1)) == 0 && rd_kafka_queue_length(main_queue_) > 0) ServeInline();
  poller_->AfterProduce();
}

void Producer::ServeInline() {
  uint64_t deadline = NowNs() + static_cast<uint64_t>(poller_->options().max_time_ms * 1e6);
  ServeNative(deadline);
  if (queue_.Size() > 0 || needs_serve) poller_->Schedule(this);
}

bool Producer::HasQueuedEvents() {
  return main_queue_ != nullptr && !closing_ && rd_kafka_queue_length(main_queue_) > 0;
}

size_t Producer::Dispatch(size_t max) {
  if (max > capacity_) max = capacity_;
  Napi::Env env = sink_.Env();
  // The local handle keeps the sink, and the typed arrays written below, alive for this call.
  Napi::Object recv = sink_.Value();
  if (recv.IsEmpty()) {
    // The JS Producer was collected (nothing was in flight, or the sink would be strong); its finalizer
    // is on its way. Events (logs, stats) have nobody left to tell.
    queue_.DropEvents();
    return 0;
  }
  size_t n = queue_.TakeReports(max, ids_, errs_, partitions_, offsets_, timestamps_);
  std::vector<Event> events = queue_.TakeEvents(max);
  if (n == 0 && events.empty()) return 0;
  in_flight_ -= static_cast<int64_t>(n);
  if (poller_) {
    poller_->metrics.reports += static_cast<double>(n);
    if (n > 0) poller_->metrics.batches++;
  }
  // Raw calls (util/js_call.h): this runs from the poller's pass or a poll thread's hand-off, where a
  // worker being terminated makes every call into JS fail.
  napi_async_context context = *async_context_;
  bool ok = true;
  if (n > 0) {
    napi_value count = Napi::Number::New(env, static_cast<double>(n));
    ok = CallJs(env, recv, on_batch_.Value(), 1, &count, context);
  }
  for (size_t i = 0; ok && i < events.size(); i++) {
    const Event& e = events[i];
    napi_value args[] = {Napi::Number::New(env, e.kind), Napi::Number::New(env, e.code), Napi::String::New(env, e.name),
                         Napi::String::New(env, e.text), Napi::Boolean::New(env, e.fatal)};
    ok = CallJs(env, recv, on_event_.Value(), 5, args, context);
  }
  if (!ok) {
    // JS is gone (or our callback threw, reported above): nothing more for it from this serve. The
    // environment's cleanup hook closes this producer.
    UpdateKeepAlive();
    return 0;
  }
  UpdateKeepAlive();
  return n > 0 ? n : 1;
}

void Producer::UpdateKeepAlive() {
  bool want = !destroyed_ && in_flight_ > 0;
  if (want == alive_) return;
  alive_ = want;
  if (want) {
    Ref();
    sink_.Ref();
    on_batch_.Ref();
    on_event_.Ref();
    if (poll_) uv_ref(reinterpret_cast<uv_handle_t*>(poll_.Get()));
    if (thread_) thread_->Ref(sink_.Env());
  } else {
    Unref();
    sink_.Unref();
    on_batch_.Unref();
    on_event_.Unref();
    if (poll_) uv_unref(reinterpret_cast<uv_handle_t*>(poll_.Get()));
    if (thread_) thread_->Unref(sink_.Env());
  }
}

void Producer::OnDelivery(const rd_kafka_message_t* m) {
  rd_kafka_timestamp_type_t type;
  int64_t ts = rd_kafka_message_timestamp(m, &type);
  queue_.PushReport(Report{static_cast<double>(reinterpret_cast<uintptr_t>(m->_private)), m->err, m->partition,
                           static_cast<double>(m->offset), static_cast<double>(ts)});
}

void Producer::OnError(int err, const char* reason) {
  Event e(Event::kError);
  e.code = err;
  e.name = ErrorName(static_cast<rd_kafka_resp_err_t>(err));
  e.text = reason;
  if (err == RD_KAFKA_RESP_ERR__FATAL && rk_ != nullptr) {
    char why[512];
    rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk_, why, sizeof(why));
    e.fatal = true;
    e.code = orig;
    e.name = ErrorName(orig);
    e.text = why;
  }
  queue_.PushEvent(std::move(e));
}

void Producer::OnStats(const char* json, size_t len) {
  Event e(Event::kStats);
  e.text.assign(json, len);
  queue_.PushEvent(std::move(e));
}

void Producer::OnLog(int level, const char* fac, const char* buf) {
  Event e(Event::kLog);
  e.code = level;
  e.name = fac;
  e.text = buf;
  queue_.PushEvent(std::move(e));
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
  if (it != topics_.end()) return last_topic_ = it->second;
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk_, last_topic_name_.c_str(), nullptr);
  if (rkt == nullptr) {
    rd_kafka_resp_err_t err = rd_kafka_last_error();
    last_topic_ = nullptr;
    throw KafkaError(env, err, std::string("topic '") + last_topic_name_ + "': " + rd_kafka_err2str(err));
  }
  topics_.emplace(last_topic_name_, rkt);
  return last_topic_ = rkt;
}

void Producer::DestroyTopics() {
  for (auto& entry : topics_) rd_kafka_topic_destroy(entry.second);
  topics_.clear();
  last_topic_ = nullptr;
}

rd_kafka_resp_err_t Producer::ProduceOne(Napi::Env env, const Napi::Value& topic, int32_t partition,
                                         const Napi::Value& value, const Napi::Value& key,
                                         const Napi::Value& headers, int64_t timestamp, double id) {
  static thread_local std::string value_scratch, key_scratch, header_scratch;
  rd_kafka_topic_t* rkt = TopicFor(env, topic);
  const void *vdata, *kdata;
  size_t vlen, klen;
  if (!Bytes(env, value, value_scratch, &vdata, &vlen))
    throw KafkaError(env, "ERR__INVALID_ARG", "message value must be a string, a Buffer or null");
  if (!Bytes(env, key, key_scratch, &kdata, &klen))
    throw KafkaError(env, "ERR__INVALID_ARG", "message key must be a string, a Buffer or null");
  rd_kafka_headers_t* hdrs = BuildHeaders(env, headers, header_scratch);

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

// produce(topic, partition, value, key, headers, timestamp, id) -> librdkafka error code (0: accepted)
Napi::Value Producer::Produce(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (rk_ == nullptr || closing_) return Napi::Number::New(env, RD_KAFKA_RESP_ERR__STATE);
  // JS passes numbers or undefined; a failed conversion (undefined) leaves the default.
  int32_t partition = RD_KAFKA_PARTITION_UA;
  int64_t timestamp = 0;
  double id = 0;
  napi_get_value_int32(env, info[1], &partition);
  napi_get_value_int64(env, info[5], &timestamp);
  napi_get_value_double(env, info[6], &id);
  rd_kafka_resp_err_t err = ProduceOne(env, info[0], partition, info[2], info[3], info[4], timestamp, id);
  if (poller_ && err == RD_KAFKA_RESP_ERR_NO_ERROR) AfterProduce();
  UpdateKeepAlive();
  return Napi::Number::New(env, err);
}

// produceBatch(messages, firstId) -> [accepted, err, error?]. Stops at the first message librdkafka
// refuses (err) or that is malformed (error: the KafkaFdError; err is then ERR__INVALID_ARG); never
// throws half-way, so the caller always learns exactly how many were taken. Ids are firstId, firstId + 1,
// ... (0: nobody waits).
Napi::Value Producer::ProduceBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array result = Napi::Array::New(env, 3);
  if (rk_ == nullptr || closing_) {
    result.Set(0u, 0.0);
    result.Set(1u, static_cast<double>(RD_KAFKA_RESP_ERR__STATE));
    return result;
  }
  if (!info[0].IsArray()) throw KafkaError(env, "ERR__INVALID_ARG", "produceBatch takes an array of messages");
  Napi::Array messages = info[0].As<Napi::Array>();
  double first_id = info[1].IsNumber() ? info[1].As<Napi::Number>().DoubleValue() : 0;
  uint32_t count = messages.Length();
  uint32_t accepted = 0;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  for (; accepted < count; accepted++) {
    // One scope per message: a batch of 100,000 must not pile up 100,000 sets of handles.
    Napi::HandleScope scope(env);
    try {
      Napi::Value item = messages.Get(accepted);
      if (!item.IsObject()) throw KafkaError(env, "ERR__INVALID_ARG", "a message must be an object");
      Napi::Object m = item.As<Napi::Object>();
      Napi::Value p = m.Get("partition");
      Napi::Value ts = m.Get("timestamp");
      int64_t timestamp = 0;
      if (ts.IsNumber()) timestamp = ts.As<Napi::Number>().Int64Value();
      else if (ts.IsDate()) timestamp = static_cast<int64_t>(ts.As<Napi::Date>().ValueOf());
      err = ProduceOne(env, m.Get("topic"), p.IsNumber() ? p.As<Napi::Number>().Int32Value() : RD_KAFKA_PARTITION_UA,
                       m.Get("value"), m.Get("key"), m.Get("headers"), timestamp,
                       first_id == 0 ? 0 : first_id + accepted);
    } catch (const Napi::Error& e) {
      // Messages before this one are in librdkafka: say so, with the reason, instead of unwinding past
      // them (their count would be lost and their reports would arrive for nobody).
      UpdateKeepAlive();
      result.Set(0u, static_cast<double>(accepted));
      result.Set(1u, static_cast<double>(RD_KAFKA_RESP_ERR__INVALID_ARG));
      result.Set(2u, e.Value());
      return result;
    }
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) break;
    if (poller_) AfterProduce();
  }
  UpdateKeepAlive();
  result.Set(0u, static_cast<double>(accepted));
  result.Set(1u, static_cast<double>(err));
  return result;
}

Napi::Value Producer::OutqLen(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), rk_ == nullptr ? 0 : rd_kafka_outq_len(rk_));
}

// After close: hands JS up to a batch of the reports still queued; returns how many (0: none left).
Napi::Value Producer::DispatchPending(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(Dispatch(capacity_)));
}

Napi::Value Producer::Txn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (rk_ == nullptr || closing_) throw KafkaError(env, "ERR__STATE", "the producer is closed");
  int op = info[0].As<Napi::Number>().Int32Value();
  if (op < 0 || op > 3) throw KafkaError(env, "ERR__INVALID_ARG", "unknown transaction operation");
  int timeout_ms = info[1].As<Napi::Number>().Int32Value();
  // A commit flushes on the threadpool, where delivery reports may be served: once it is done, the poller
  // hands JS whatever that left in the report queue.
  return RunTxnOp(env, Value(), rk_, static_cast<TxnOp>(op), timeout_ms, &txn_running_, [this]() {
    if (poller_ && !destroyed_ && HasPending()) poller_->Schedule(this);
  });
}

// Raises a fabricated fatal error (librdkafka's rd_kafka_test_fatal_error), so that tests can check how a
// fatal error is handled without a broker that produces one.
Napi::Value Producer::TestFatalError(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (rk_ == nullptr) throw KafkaError(env, "ERR__STATE", "the producer is closed");
  std::string reason = info[1].ToString();
  rd_kafka_resp_err_t err =
      rd_kafka_test_fatal_error(rk_, static_cast<rd_kafka_resp_err_t>(info[0].As<Napi::Number>().Int32Value()), reason.c_str());
  return Napi::Number::New(env, err);
}

Napi::Value Producer::Name(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), rk_ == nullptr ? "" : rd_kafka_name(rk_));
}

void Producer::Detach() {
  if (poller_) {
    // librdkafka must stop writing before the fd closes, or it writes into a closed (or reused) fd.
    if (main_queue_ != nullptr) rd_kafka_queue_io_event_enable(main_queue_, -1, nullptr, 0);
    poller_->Remove(this);
    poll_.Reset();
    if (event_fd_) event_fd_->Close();
    poller_.reset();
  }
}

Napi::Value Producer::Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (closing_) {
    auto done = Napi::Promise::Deferred::New(env);
    done.Resolve(env.Undefined());
    return done.Promise();
  }
  closing_ = true;
  // Reports still queued natively stay queued: CloseWorker::OnOK hands them to JS with the purge reports,
  // from the event loop rather than from inside this JS call.
  Detach();
  auto* worker = new CloseWorker(env, this);
  Napi::Value promise = worker->Promise();
  worker->Queue();
  return promise;
}

void Producer::CloseNow() {
  if (destroyed_) return;
  closing_ = true;
  // A transaction call still running on the threadpool uses rk_; each has a timeout, so this ends.
  while (txn_running_.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  Detach();
  if (thread_) {
    thread_->Stop();
    thread_->ReleaseTsfn();
  }
  rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  DestroyTopics();
  rd_kafka_queue_destroy(main_queue_);
  rd_kafka_destroy(rk_);
  rk_ = nullptr;
  main_queue_ = nullptr;
  destroyed_ = true;
  in_flight_ = 0;
  if (alive_) {
    alive_ = false;
    Unref();
  }
}

}  // namespace kafka_fd
