#pragma once
// Work that may block (a destroy, a transaction call, stopping a mock cluster) runs on the libuv threadpool,
// and a promise settles on the JS thread once it is done. Written once for every such call.
#include <napi.h>

#include <functional>
#include <utility>

#include "js_call.h"

namespace kafka_fd {

class PromiseWorker : public Napi::AsyncWorker {
 public:
  using Work = std::function<void()>;
  // Settles the promise; a Napi::Error it throws rejects it instead.
  using Complete = std::function<void(Napi::Env, JsPromise&)>;

  PromiseWorker(Napi::Env env, const char* name, Work work, Complete complete, Napi::Object keep_alive)
      : Napi::AsyncWorker(env, name), promise_(env), work_(std::move(work)), complete_(std::move(complete)) {
    if (!keep_alive.IsEmpty()) keep_alive_ = Napi::Persistent(keep_alive);
  }

  Napi::Value Promise() { return Napi::Value(Env(), promise_.promise()); }

 protected:
  void Execute() override { work_(); }
  void OnOK() override {
    Napi::HandleScope scope(Env());
    try {
      complete_(Env(), promise_);
    } catch (const Napi::Error& e) {
      // Building a KafkaFdError runs JS: while the environment goes away that fails, and nobody is left to
      // be told; otherwise the promise rejects with it.
      promise_.Reject(e.Value());
    }
  }
  void OnError(const Napi::Error& e) override { promise_.Reject(e.Value()); }

 private:
  JsPromise promise_;
  Work work_;
  Complete complete_;
  Napi::ObjectReference keep_alive_;  // the JS object the work uses may not be collected meanwhile
};

// Queues `work` on the threadpool; `complete` settles the returned promise on the JS thread. `keep_alive`
// (optional) is held until then.
inline Napi::Value QueuePromiseWork(Napi::Env env, const char* name, PromiseWorker::Work work,
                                    PromiseWorker::Complete complete, Napi::Object keep_alive = Napi::Object()) {
  auto* worker = new PromiseWorker(env, name, std::move(work), std::move(complete), keep_alive);
  Napi::Value promise = worker->Promise();
  worker->Queue();
  return promise;
}

// A promise already resolved (close() called twice, a cluster already closed).
inline Napi::Value ResolvedPromise(Napi::Env env) {
  auto done = Napi::Promise::Deferred::New(env);
  done.Resolve(env.Undefined());
  return done.Promise();
}

}  // namespace kafka_fd
