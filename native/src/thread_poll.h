#pragma once
// Thread mode, the baseline fd mode is measured against: one thread per producer calling
// rd_kafka_poll(rk, 100) in a loop (the callbacks append to the producer's ReportQueue) and waking JS
// through a thread-safe function when anything arrived. Joined by Stop(), which may block up to one poll
// timeout and so runs off the JS thread (in the close worker) or at environment teardown.
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
  void Run();

  rd_kafka_t* rk_;
  std::function<void()> dispatch_;
  Napi::ThreadSafeFunction tsfn_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> call_pending_{false};  // one queued JS call is enough: it drains everything
  std::thread thread_;
  bool released_ = false;
  // A JS call queued before this object went away must not touch it: calls check this token first (both
  // the calls run on the JS thread; the destructor may run on the thread that destroys a dropped producer).
  std::shared_ptr<std::atomic<bool>> alive_ = std::make_shared<std::atomic<bool>>(true);
};

}  // namespace kafka_fd
