#pragma once
// The one owner of an rd_kafka_t, for every kind of client (NativeProducer; the consumer to come):
// configuration from JS (a bad key named as given), the opaque, logs served with everything else
// (log.queue), errors/statistics/logs queued as events for JS, keep-alive exactly while work is in flight,
// how it is served (a PollerCore in fd mode, a thread of its own in thread mode), and the three ways it ends:
// close() off the JS thread, environment teardown (CloseNow), and the finalizer of a client dropped
// without close() (Drop). A kind adds its own callbacks, its own part of the dispatch, and what must happen
// before the destroy, through the hooks below.
#include <librdkafka/rdkafka.h>
#include <napi.h>

#include <atomic>
#include <memory>
#include <vector>

#include "addon.h"
#include "event_queue.h"
#include "poll_target.h"
#include "poller.h"
#include "thread_poll.h"

namespace kafka_fd {

class Client : public PollTarget, public Closable {
 public:
  // PollTarget, for a client whose main queue is served with rd_kafka_poll (its callbacks run inside).
  Served ServeNative(uint64_t deadline_ns) override;
  Dispatched Dispatch(size_t max, PollerMetrics* metrics = nullptr) final;  // DispatchOwn, then the events
  bool HasPending() override { return events_.Size() > 0 || HasOwnPending(); }
  bool HasQueuedEvents() override;
  void CloseNow() override;  // environment teardown: detach, destroy now, on the JS thread

  // librdkafka's callbacks (whatever thread serves the queue): they only queue an event.
  void OnError(int err, const char* reason);
  void OnStats(const char* json, size_t len);
  void OnLog(int level, const char* fac, const char* buf);

 protected:
  Client() = default;
  ~Client() override;

  // From the kind's constructor: `config` is [key, value, ...]; the sink holds `onEvent(kind, code, name,
  // text, fatal)` and the kind's own callbacks and arrays. Throws a KafkaFdError for a bad configuration.
  void Open(Napi::Env env, const Napi::Value& config, Napi::Object sink, rd_kafka_type_t type, const char* resource);
  // Ends a client dropped without close() (from the kind's destructor, while the kind is whole): detach
  // now, destroy on a thread of its own (the finalizer may not block).
  void Drop();
  // Keeps the loop, this object and its callbacks alive exactly while Busy().
  void UpdateKeepAlive();
  // The same, for the produce path: `busy` is the kind's own cheap answer, so that nothing is called when
  // nothing changes (once per message).
  void KeepAliveIf(bool busy) {
    if (alive_ != (busy && !destroyed_)) UpdateKeepAlive();
  }
  // After a unit of inline work (an accepted message): serve natively now and then (see PollerCore).
  void ServeInline();
  void AfterInlineWork(uint32_t units = 1) {
    if (poller_) poller_->AfterWork(units);
  }
  // Schedules a dispatch on the poller (fd mode), e.g. after threadpool work left something queued.
  void Schedule();
  // The error close(), produce() and friends answer with once the client is closing or closed.
  bool Stopped() const { return rk_ == nullptr || closing_; }

  // --- hooks for the kind ---
  virtual void Configure(rd_kafka_conf_t* conf) {}  // before rd_kafka_new: the kind's own callbacks
  // The kind serves with the event API (a consumer): errors, statistics and logs come as events from its
  // queue instead of through callbacks inside rd_kafka_poll.
  virtual bool UsesEventApi() { return false; }
  virtual void AfterOpen() {}  // after rd_kafka_new: e.g. the consumer's queues
  // Hands JS the kind's own results (up to `max`); false when the call into JS failed (JS is gone).
  virtual bool DispatchOwn(Napi::Env env, Napi::Object recv, size_t max, PollerMetrics* metrics, Dispatched* out) {
    return true;
  }
  virtual bool HasOwnPending() { return false; }
  // The JS client was collected: what waits for it has nobody to go to (or HasPending would stay true).
  virtual void DropOwnPending() {}
  virtual bool Busy() { return false; }     // work in flight
  virtual void BeforeDestroy() {}           // off the JS thread (close) or at teardown: e.g. purge
  virtual void ReleaseHandles() {}          // before rd_kafka_destroy: e.g. topic handles
  virtual void OnDestroyed() {}             // after it: e.g. nothing is in flight any more
  virtual int DestroyFlags() { return 0; }  // rd_kafka_destroy_flags (a consumer never closes inside it)
  virtual std::vector<rd_kafka_queue_t*> WatchedQueues() { return {main_queue_}; }
  virtual void HoldSelf(bool hold) = 0;     // the ObjectWrap's own reference (ClientWrap)
  virtual Napi::Object SelfValue() = 0;

  // --- JS methods every kind has (ClientWrap forwards to them) ---
  Napi::Value AttachJs(const Napi::CallbackInfo& info);  // (poller) fd mode, () thread mode
  Napi::Value CloseJs(const Napi::CallbackInfo& info);   // -> Promise; destroy on the threadpool
  Napi::Value NameJs(const Napi::CallbackInfo& info);
  Napi::Value TestFatalErrorJs(const Napi::CallbackInfo& info);  // (code, reason): tests only
  Napi::Value DispatchPendingJs(const Napi::CallbackInfo& info); // after close: what is left, a batch

  std::shared_ptr<EnvState> state_;
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_queue_t* main_queue_ = nullptr;
  EventQueue events_;
  // The sink and its callbacks: weak while nothing is in flight (the sink's callbacks close over the JS
  // client, which holds this object: strong references would make a cycle through a GC root and no client
  // would ever be collected), strong while work is (so that every promise settles).
  Napi::ObjectReference sink_;
  Napi::FunctionReference on_event_;
  std::vector<Napi::FunctionReference*> held_;  // the kind's callbacks, held the same way
  std::unique_ptr<Napi::AsyncContext> async_context_;
  size_t capacity_ = 1024;  // most results per JS call (the sink's arrays)
  std::shared_ptr<PollerCore> poller_;  // fd mode
  std::unique_ptr<PollThread> thread_;  // thread mode
  std::atomic<int> blocking_calls_{0};  // threadpool calls using rk_ (teardown waits for them)
  bool closing_ = false;
  bool destroyed_ = false;

 private:
  void Detach();  // leave the poller (io events off, handle and fd closed)
  bool alive_ = false;  // the loop and this object are held
};

// The ObjectWrap side of a client kind T (CRTP): the shared JS methods and the self reference.
template <typename T>
class ClientWrap : public Napi::ObjectWrap<T>, public Client {
 public:
  explicit ClientWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<T>(info) {}

 protected:
  using Method = typename Napi::ObjectWrap<T>::PropertyDescriptor;
  // The shared methods, for the kind's DefineClass.
  static std::vector<Method> ClientMethods() {
    return {
        Napi::ObjectWrap<T>::InstanceMethod("attach", &ClientWrap::Attach),
        Napi::ObjectWrap<T>::InstanceMethod("close", &ClientWrap::Close),
        Napi::ObjectWrap<T>::InstanceMethod("name", &ClientWrap::Name),
        Napi::ObjectWrap<T>::InstanceMethod("testFatalError", &ClientWrap::TestFatalError),
        Napi::ObjectWrap<T>::InstanceMethod("dispatchPending", &ClientWrap::DispatchPending),
    };
  }
  void HoldSelf(bool hold) override {
    if (hold) this->Ref();
    else this->Unref();
  }
  Napi::Object SelfValue() override { return this->Value(); }

 private:
  Napi::Value Attach(const Napi::CallbackInfo& info) { return AttachJs(info); }
  Napi::Value Close(const Napi::CallbackInfo& info) { return CloseJs(info); }
  Napi::Value Name(const Napi::CallbackInfo& info) { return NameJs(info); }
  Napi::Value TestFatalError(const Napi::CallbackInfo& info) { return TestFatalErrorJs(info); }
  Napi::Value DispatchPending(const Napi::CallbackInfo& info) { return DispatchPendingJs(info); }
};

}  // namespace kafka_fd
