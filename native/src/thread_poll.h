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

namespace kafka_fd {

class PollThread {
 public:
  // `dispatch` runs on the JS thread each time the thread saw events.
  PollThread(Napi::Env env, rd_kafka_t* rk, std::function<void()> dispatch);
  ~PollThread();

  void Ref(Napi::Env env);    // keep the loop alive (messages in flight)
  void Unref(Napi::Env env);
  void Stop();                // idempotent; joins the thread
  void Disown();              // on the JS thread: JS calls already queued will do nothing
  void ReleaseTsfn();         // on the JS thread, after Stop

 private:
  // Shared by this object, the thread and the thread-safe function's context.
  struct Shared {
    explicit Shared(std::function<void()> d) : dispatch(std::move(d)) {}
    std::function<void()> dispatch;
    std::atomic<bool> alive{true};          // false: the producer is gone, queued calls do nothing
    std::atomic<bool> call_pending{false};  // one queued JS call is enough: it drains everything
  };
  static void CallJs(napi_env env, napi_value, void* context, void*);
  void Run();

  rd_kafka_t* rk_;
  std::shared_ptr<Shared> shared_;
  napi_threadsafe_function tsfn_ = nullptr;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  bool released_ = false;
};

}  // namespace kafka_fd
