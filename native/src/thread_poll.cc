#include "thread_poll.h"

namespace kafka_fd {

PollThread::PollThread(Napi::Env env, rd_kafka_t* rk, std::function<void()> dispatch)
    : rk_(rk), shared_(std::make_shared<Shared>(std::move(dispatch))) {
  auto* context = new std::shared_ptr<Shared>(shared_);
  napi_value name = Napi::String::New(env, "kafka-fd-poll-thread");
  napi_status status = napi_create_threadsafe_function(
      env, nullptr, nullptr, name, 0, 1, nullptr,
      [](napi_env, void*, void* ctx) { delete static_cast<std::shared_ptr<Shared>*>(ctx); }, context, &PollThread::CallJs,
      &tsfn_);
  if (status != napi_ok) {
    delete context;
    throw Napi::Error::New(env, "napi_create_threadsafe_function failed");
  }
  napi_unref_threadsafe_function(env, tsfn_);
  thread_ = std::thread([this] { Run(); });
}

// On the JS thread. `env` is null when the environment is going away with this call still queued.
void PollThread::CallJs(napi_env env, napi_value, void* context, void*) {
  if (env == nullptr) return;
  std::shared_ptr<Shared>& shared = *static_cast<std::shared_ptr<Shared>*>(context);
  if (!shared->alive.load()) return;
  shared->call_pending.store(false);
  shared->dispatch();
}

void PollThread::Disown() {
  shared_->alive.store(false);
}

PollThread::~PollThread() {
  shared_->alive.store(false);
  Stop();
  ReleaseTsfn();
}

void PollThread::Ref(Napi::Env env) {
  if (!released_) napi_ref_threadsafe_function(env, tsfn_);
}

void PollThread::Unref(Napi::Env env) {
  if (!released_) napi_unref_threadsafe_function(env, tsfn_);
}

void PollThread::Run() {
  while (!stop_.load(std::memory_order_acquire)) {
    int served = rd_kafka_poll(rk_, 100);
    if (served > 0 && !shared_->call_pending.exchange(true)) {
      if (napi_call_threadsafe_function(tsfn_, nullptr, napi_tsfn_nonblocking) != napi_ok) shared_->call_pending.store(false);
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
  napi_release_threadsafe_function(tsfn_, napi_tsfn_release);
}

}  // namespace kafka_fd
