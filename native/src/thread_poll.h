#pragma once
// Thread mode, the baseline fd mode is measured against: one thread per producer calling
// rd_kafka_poll(rk, 100) in a loop (the callbacks append to the producer's ReportQueue) and waking JS
// through a thread-safe function when anything arrived. Joined by Stop(), which may block up to one poll
// timeout and so runs off the JS thread (in the close worker) or at environment teardown.
//
// The thread-safe function is N-API's own (not node-addon-api's lambda form, which allocates a closure per
// call and leaks it when the environment goes away before the call runs): a call carries no data, and its
// context is a shared state that the function's finalizer releases, so the order in which the environment
// tears down this object and the function does not matter.
#include <librdkafka/rdkafka.h>
#include <napi.h>

#include <atomic>
#include <functional>
#include <memory>
#include <thread>

#include "util/uv_handle.h"

namespace kafka_fd {

class PollThread {
 public:
  // `dispatch` runs on the JS thread when the thread saw events: it hands JS a bounded amount; `pending`
  // says whether anything is left, which is then dispatched on the next loop turn.
  PollThread(Napi::Env env, rd_kafka_t* rk, std::function<void()> dispatch, std::function<bool()> pending);
  ~PollThread();

  void Ref(Napi::Env env);    // keep the loop alive (messages in flight)
  void Unref(Napi::Env env);
  void Stop();                // idempotent; joins the thread
  void Disown();              // on the JS thread: JS calls already queued will do nothing
  void ReleaseTsfn();         // on the JS thread, after Stop

 private:
  // Shared by this object, the thread and the thread-safe function's context.
  struct Shared {
    Shared(PollThread* o, std::function<void()> d, std::function<bool()> p)
        : owner(o), dispatch(std::move(d)), pending(std::move(p)) {}
    PollThread* owner;  // valid while `alive`
    std::function<void()> dispatch;
    std::function<bool()> pending;
    std::atomic<bool> alive{true};  // false: the producer is gone, queued calls do nothing
    // A JS call is queued or a continuation is scheduled: the thread need not queue another.
    std::atomic<bool> call_pending{false};
  };
  static void CallJs(napi_env env, napi_value, void* context, void*);
  void Run();
  void Wake();   // poll thread: queue a JS call unless one is queued or scheduled
  void Serve();  // JS thread: dispatch, then schedule the rest for the next turn

  rd_kafka_t* rk_;
  std::shared_ptr<Shared> shared_;
  napi_threadsafe_function tsfn_ = nullptr;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::atomic<bool> released_{false};
  // The continuation of a dispatch that left work, on the next loop turn: a check handle (one run per
  // turn; a thread-safe call queued from inside another, or a 0 ms timer re-armed from its own callback,
  // would run again in the same turn) and an idle handle so that the poll phase does not block before it.
  // Closed on the JS thread (Disown, ReleaseTsfn): this object may be destroyed on another thread.
  UvHandle<uv_check_t> later_;
  UvHandle<uv_idle_t> spin_;
  void CloseHandles();
};

}  // namespace kafka_fd
