#include "thread_poll.h"

namespace kafka_fd {

PollThread::PollThread(Napi::Env env, rd_kafka_t* rk, std::function<void()> dispatch, std::function<bool()> pending)
    : rk_(rk), shared_(std::make_shared<Shared>(this, std::move(dispatch), std::move(pending))) {
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
  uv_loop_t* loop;
  napi_get_uv_event_loop(env, &loop);
  uv_check_init(loop, later_.Allocate());
  later_.Get()->data = this;
  uv_unref(reinterpret_cast<uv_handle_t*>(later_.Get()));
  uv_idle_init(loop, spin_.Allocate());
  uv_unref(reinterpret_cast<uv_handle_t*>(spin_.Get()));
  thread_ = std::thread([this] { Run(); });
}

// On the JS thread. `env` is null when the environment is going away with this call still queued.
void PollThread::CallJs(napi_env env, napi_value, void* context, void*) {
  if (env == nullptr) return;
  std::shared_ptr<Shared>& shared = *static_cast<std::shared_ptr<Shared>*>(context);
  if (shared->alive.load()) shared->owner->Serve();
}

void PollThread::Serve() {
  shared_->dispatch();
  // Cleared before looking for more: a report the thread adds after the look finds the flag clear and
  // queues its own call, so none is stranded.
  shared_->call_pending.store(false);
  if (later_ && shared_->pending() && !shared_->call_pending.exchange(true)) {
    uv_check_start(later_.Get(), [](uv_check_t* c) {
      auto* self = static_cast<PollThread*>(c->data);
      if (self == nullptr) return;
      uv_check_stop(c);
      uv_idle_stop(self->spin_.Get());
      if (self->shared_->alive.load()) self->Serve();
    });
    uv_idle_start(spin_.Get(), [](uv_idle_t*) {});
  }
}

void PollThread::CloseHandles() {
  later_.Reset();
  spin_.Reset();
}

void PollThread::Disown() {
  shared_->alive.store(false);
  CloseHandles();
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
    if (rd_kafka_poll(rk_, 100) > 0) Wake();
  }
}

void PollThread::Wake() {
  if (shared_->call_pending.exchange(true)) return;
  if (napi_call_threadsafe_function(tsfn_, nullptr, napi_tsfn_nonblocking) != napi_ok) shared_->call_pending.store(false);
}

void PollThread::Stop() {
  stop_.store(true, std::memory_order_release);
  if (thread_.joinable()) thread_.join();
}

void PollThread::ReleaseTsfn() {
  CloseHandles();
  if (released_) return;
  released_ = true;
  napi_release_threadsafe_function(tsfn_, napi_tsfn_release);
}

}  // namespace kafka_fd
