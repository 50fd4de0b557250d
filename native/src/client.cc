#include "client.h"

#include <chrono>
#include <string>
#include <thread>

#include "kafka_error.h"
#include "poller.h"
#include "thread_poll.h"
#include "util/js_call.h"
#include "util/promise_worker.h"

namespace kafka_fd {

namespace {

// The opaque of every rd_kafka_t we make is its Client.
void ErrorCallback(rd_kafka_t*, int err, const char* reason, void* opaque) {
  static_cast<Client*>(opaque)->OnError(err, reason);
}
int StatsCallback(rd_kafka_t*, char* json, size_t len, void* opaque) {
  static_cast<Client*>(opaque)->OnStats(json, len);
  return 0;  // librdkafka frees the JSON
}
void LogCallback(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
  static_cast<Client*>(rd_kafka_opaque(rk))->OnLog(level, fac, buf);
}

}  // namespace

void Client::Open(Napi::Env env, const Napi::Value& config, Napi::Object sink, rd_kafka_type_t type, const char* resource) {
  state_ = Addon::State(env);
  if (!config.IsArray()) throw Napi::TypeError::New(env, "the configuration must be a [key, value, ...] array");
  sink_ = Napi::Weak(sink);
  on_event_ = Napi::Weak(sink.Get("onEvent").As<Napi::Function>());
  async_context_ = std::make_unique<Napi::AsyncContext>(env, resource);

  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  Napi::Array pairs = config.As<Napi::Array>();
  for (uint32_t i = 0; i + 1 < pairs.Length(); i += 2) {
    std::string key = pairs.Get(i).ToString();
    std::string value = pairs.Get(i + 1).ToString();
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      // Name the key as given: librdkafka names aliases by their canonical name (linger.ms -> queue.buffering.max.ms).
      throw KafkaError(env, "ERR__INVALID_ARG", "configuration '" + key + "': " + errstr);
    }
  }
  // Logs are served with everything else by whoever serves the main queue, never on librdkafka's threads.
  rd_kafka_conf_set(conf, "log.queue", "true", errstr, sizeof(errstr));
  rd_kafka_conf_set_opaque(conf, static_cast<Client*>(this));
  if (!UsesEventApi()) {
    rd_kafka_conf_set_error_cb(conf, ErrorCallback);
    rd_kafka_conf_set_stats_cb(conf, StatsCallback);
    rd_kafka_conf_set_log_cb(conf, LogCallback);
  }
  Configure(conf);

  rk_ = rd_kafka_new(type, conf, errstr, sizeof(errstr));
  if (rk_ == nullptr) {
    rd_kafka_conf_destroy(conf);
    throw KafkaError(env, "ERR__INVALID_ARG", errstr);
  }
  rd_kafka_set_log_queue(rk_, nullptr);
  main_queue_ = rd_kafka_queue_get_main(rk_);
  AfterOpen();
  state_->closables.insert(this);
}

Client::~Client() {
  if (state_) state_->closables.erase(this);
}

void Client::Drop() {
  if (destroyed_ || rk_ == nullptr) return;
  // Nothing was in flight (in-flight work keeps this object alive), so there is nothing to report. Thread
  // mode: joining the poll thread can take a poll timeout, so that happens on the destroying thread too;
  // the JS calls it already queued become no-ops first.
  closing_ = true;
  Detach();
  ReleaseHandles();
  std::unique_ptr<PollThread> thread = std::move(thread_);
  if (thread) thread->Disown();
  rd_kafka_t* rk = rk_;
  rd_kafka_queue_t* q = main_queue_;
  rk_ = nullptr;
  main_queue_ = nullptr;
  destroyed_ = true;
  int flags = DestroyFlags();
  auto destroy = [rk, q, flags, thread = std::move(thread)]() mutable {
    thread.reset();  // stops and joins the poll thread
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy_flags(rk, flags);
  };
  if (!state_->tearing_down) std::thread(std::move(destroy)).detach();
  else destroy();
}

Napi::Value Client::AttachJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (poller_ || thread_) throw KafkaError(env, "ERR__STATE", "the client is already attached to a poller");
  if (rk_ == nullptr) throw KafkaError(env, "ERR__STATE", "the client is closed");
  if (info.Length() > 0 && info[0].IsObject()) {
    std::shared_ptr<PollerCore> core = Napi::ObjectWrap<Poller>::Unwrap(info[0].As<Napi::Object>())->core();
    std::string error = core->Add(this, WatchedQueues());
    if (!error.empty()) throw KafkaError(env, "ERR__FAIL", error);
    poller_ = std::move(core);
  } else {
    thread_ = std::make_unique<PollThread>(
        env, rk_,
        [this] {
          // A bounded number of batches per JS call, like the poller's turn budget; PollThread hands over
          // the rest on the next loop turn.
          try {
            Napi::HandleScope scope(sink_.Env());
            for (int i = 0; i < 8 && Dispatch(capacity_).any; i++) {
            }
          } catch (const Napi::Error&) {
            // JS cannot run (the environment is being torn down): see PollerCore::Pass.
          }
        },
        [this] { return HasPending(); });
  }
  return env.Undefined();
}

void Client::Detach() {
  if (!poller_) return;
  poller_->Remove(this);
  poller_.reset();
}

PollTarget::Served Client::ServeNative(uint64_t deadline_ns) {
  Served served;
  if (Stopped()) return served;
  while (true) {
    int n = rd_kafka_poll(rk_, 0);
    served.events += n;
    if (n == 0) return served;
    if (NowNs() >= deadline_ns) {
      served.done = false;
      return served;
    }
  }
}

bool Client::HasQueuedEvents() {
  return main_queue_ != nullptr && !closing_ && rd_kafka_queue_length(main_queue_) > 0;
}

void Client::ServeInline() {
  if (poller_) poller_->ServeInline(this);
}

void Client::Schedule() {
  if (poller_ && !destroyed_ && HasPending()) poller_->Schedule(this);
}

PollTarget::Dispatched Client::Dispatch(size_t max, PollerMetrics* metrics) {
  if (max > capacity_) max = capacity_;
  Napi::Env env = sink_.Env();
  // The local handle keeps the sink, and what the kind writes into it, alive for this call.
  Napi::Object recv = sink_.Value();
  if (recv.IsEmpty()) {
    // The JS client was collected (nothing was in flight, or the sink would be strong); its finalizer is
    // on its way. Events (logs, stats) have nobody left to tell.
    events_.Clear();
    DropOwnPending();
    return {};
  }
  // Raw calls (util/js_call.h): this runs from the poller's pass or a poll thread's hand-off, where a
  // worker being terminated makes every call into JS fail.
  Dispatched d;
  bool ok = DispatchOwn(env, recv, max, metrics, &d);
  std::vector<Event> events;
  if (ok) events = events_.Take(max);
  napi_async_context context = *async_context_;
  for (size_t i = 0; ok && i < events.size(); i++) {
    const Event& e = events[i];
    napi_value args[] = {Napi::Number::New(env, e.kind), Napi::Number::New(env, e.code), Napi::String::New(env, e.name),
                         Napi::String::New(env, e.text), Napi::Boolean::New(env, e.fatal)};
    ok = CallJs(env, recv, on_event_.Value(), 5, args, context);
  }
  UpdateKeepAlive();
  // JS is gone (or our callback threw, reported as an uncaught exception): nothing more from this serve.
  // The environment's cleanup hook closes this client.
  if (!ok) return {};
  d.any = d.any || d.reports > 0 || !events.empty();
  return d;
}

void Client::UpdateKeepAlive() {
  bool want = !destroyed_ && Busy();
  if (want == alive_) return;
  alive_ = want;
  HoldSelf(want);
  if (want) {
    sink_.Ref();
    on_event_.Ref();
    for (Napi::FunctionReference* f : held_) f->Ref();
  } else {
    sink_.Unref();
    on_event_.Unref();
    for (Napi::FunctionReference* f : held_) f->Unref();
  }
  if (poller_) poller_->Ref(this, want);
  if (thread_) {
    if (want) thread_->Ref(sink_.Env());
    else thread_->Unref(sink_.Env());
  }
}

void Client::OnError(int err, const char* reason) {
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
  events_.Push(std::move(e));
}

void Client::OnStats(const char* json, size_t len) {
  Event e(Event::kStats);
  e.text.assign(json, len);
  events_.Push(std::move(e));
}

void Client::OnLog(int level, const char* fac, const char* buf) {
  Event e(Event::kLog);
  e.code = level;
  e.name = fac;
  e.text = buf;
  events_.Push(std::move(e));
}

Napi::Value Client::CloseJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (closing_) return ResolvedPromise(env);
  closing_ = true;
  // What is still queued natively stays queued: JS takes it with dispatchPending() after the destroy, from
  // the event loop rather than from inside this call.
  Detach();
  return QueuePromiseWork(
      env, "kafka-fd-close",
      [this] {
        if (thread_) thread_->Stop();
        BeforeDestroy();
        ReleaseHandles();
        rd_kafka_queue_destroy(main_queue_);
        rd_kafka_destroy_flags(rk_, DestroyFlags());
      },
      [this](Napi::Env, JsPromise& promise) {
        rk_ = nullptr;
        main_queue_ = nullptr;
        destroyed_ = true;
        if (thread_) thread_->ReleaseTsfn();
        UpdateKeepAlive();
        promise.Resolve();
      },
      SelfValue());
}

void Client::CloseNow() {
  if (destroyed_ || rk_ == nullptr) return;
  closing_ = true;
  // A threadpool call still running uses rk_; each has a timeout, so this ends.
  while (blocking_calls_.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  Detach();
  if (thread_) {
    thread_->Stop();
    thread_->ReleaseTsfn();
  }
  BeforeDestroy();
  ReleaseHandles();
  rd_kafka_queue_destroy(main_queue_);
  rd_kafka_destroy_flags(rk_, DestroyFlags());
  rk_ = nullptr;
  main_queue_ = nullptr;
  destroyed_ = true;
  OnDestroyed();
  if (alive_) {
    alive_ = false;
    HoldSelf(false);
  }
}

Napi::Value Client::NameJs(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), rk_ == nullptr ? "" : rd_kafka_name(rk_));
}

// Raises a fabricated fatal error (librdkafka's rd_kafka_test_fatal_error), so that tests can check how a
// fatal error is handled without a broker that produces one.
Napi::Value Client::TestFatalErrorJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (rk_ == nullptr) throw KafkaError(env, "ERR__STATE", "the client is closed");
  std::string reason = info[1].ToString();
  rd_kafka_resp_err_t err =
      rd_kafka_test_fatal_error(rk_, static_cast<rd_kafka_resp_err_t>(info[0].As<Napi::Number>().Int32Value()), reason.c_str());
  return Napi::Number::New(env, err);
}

Napi::Value Client::DispatchPendingJs(const Napi::CallbackInfo& info) {
  Dispatched d = Dispatch(capacity_);
  return Napi::Number::New(info.Env(), static_cast<double>(d.any ? std::max<size_t>(d.reports, 1) : 0));
}

}  // namespace kafka_fd
