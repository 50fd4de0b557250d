#pragma once
// Per-environment state of the addon (the main thread and every worker thread get their own): the
// constructors, the JS error class, and the registry of what is open (producers, mock clusters) and of the
// pollers, which are all closed by an async cleanup hook when the environment goes away, so a worker can
// exit, or be terminated, with producers still open.
#include <napi.h>

#include <memory>
#include <unordered_set>

namespace kafka_fd {

class PollerCore;

// What the environment's cleanup closes if JS did not: synchronously, on the JS thread, with JS gone.
class Closable {
 public:
  virtual ~Closable() = default;
  virtual void CloseNow() = 0;
};

struct EnvState {
  napi_env env = nullptr;
  bool tearing_down = false;
  std::unordered_set<Closable*> closables;
  std::unordered_set<PollerCore*> pollers;
  Napi::FunctionReference error_class;  // KafkaFdError, handed over by lib/native/binding.ts
};

class Addon : public Napi::Addon<Addon> {
 public:
  Addon(Napi::Env env, Napi::Object exports);
  ~Addon();

  static std::shared_ptr<EnvState> State(Napi::Env env) { return env.GetInstanceData<Addon>()->state_; }

  Napi::FunctionReference producer_ctor;
  Napi::FunctionReference consumer_ctor;
  Napi::FunctionReference poller_ctor;
  Napi::FunctionReference mock_cluster_ctor;

 private:
  Napi::Value SetErrorClass(const Napi::CallbackInfo& info);
  Napi::Value Versions(const Napi::CallbackInfo& info);
  static Napi::Object Constants(Napi::Env env);
  static void AsyncCleanup(napi_async_cleanup_hook_handle handle, void* arg);

  std::shared_ptr<EnvState> state_;
  napi_async_cleanup_hook_handle cleanup_handle_ = nullptr;
};

}  // namespace kafka_fd
