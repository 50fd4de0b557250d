#include "thread_poll.h"

namespace kafka_fd {

PollThread::PollThread(Napi::Env env, rd_kafka_t* rk, std::function<void()> dispatch)
    : rk_(rk), dispatch_(std::move(dispatch)) {
  tsfn_ = Napi::ThreadSafeFunction::New(env, Napi::Function(), "kafka-fd-poll-thread", 0, 1);
  tsfn_.Unref(env);
  thread_ = std::thread([this] { Run(); });
}

void PollThread::Disown() {
  alive_->store(false);
}

PollThread::~PollThread() {
  alive_->store(false);
  Stop();
  ReleaseTsfn();
}

void PollThread::Ref(Napi::Env env) {
  if (!released_) tsfn_.Ref(env);
}

void PollThread::Unref(Napi::Env env) {
  if (!released_) tsfn_.Unref(env);
}

void PollThread::Run() {
  while (!stop_.load(std::memory_order_acquire)) {
    int served = rd_kafka_poll(rk_, 100);
    if (served > 0 && !call_pending_.exchange(true)) {
      std::shared_ptr<std::atomic<bool>> alive = alive_;
      napi_status status = tsfn_.NonBlockingCall([this, alive](Napi::Env, Napi::Function) {
        if (!alive->load()) return;
        call_pending_.store(false);
        dispatch_();
      });
      if (status != napi_ok) call_pending_.store(false);
    }
  }
}

void PollThread::Stop() {
  stop_.store(true, std::memory_order_release);
  if (thread_.joinable()) thread_.join();
}

void PollThread::ReleaseTsfn() {
  if (released_) return;
  released_ = true;
  tsfn_.Release();
}

}  // namespace kafka_fd
