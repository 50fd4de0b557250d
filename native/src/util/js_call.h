#pragma once
// Calls into JS that JS did not start: the poller's pass (a uv check callback), a poll thread's hand-off,
// an async worker's completion. While an environment is torn down (worker.terminate(), process exit),
// JS cannot run: a call fails with napi_pending_exception and what is "pending" is V8's termination, not an
// Error. node-addon-api turns such a failure into a C++ exception whose construction is itself fatal (it
// wraps the non-object in a new object, which needs JS), so these paths use the raw calls and treat that
// failure as "the environment is going away: stop here". (NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS, set in
// binding.gyp, covers the same failure inside calls that JS started.)
#include <node_api.h>

namespace kafka_fd {

// Calls `fn` with napi_make_callback (so async hooks and the microtask queue see it). Returns false when
// the call did not complete: the environment can no longer run JS (dropped quietly), or the callback
// threw. Our JS callbacks guard every user subscriber, so a real throw is a bug in our JS: it is reported
// as an uncaught exception rather than lost.
inline bool CallJs(napi_env env, napi_value recv, napi_value fn, size_t argc, const napi_value* argv,
                   napi_async_context context) {
  napi_value result;
  if (napi_make_callback(env, context, recv, fn, argc, argv, &result) == napi_ok) return true;
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) != napi_ok || !pending) return false;
  napi_value exception;
  if (napi_get_and_clear_last_exception(env, &exception) != napi_ok) return false;
  napi_valuetype type;
  // Termination shows as a non-object; only a real Error is worth an uncaught exception.
  if (napi_typeof(env, exception, &type) == napi_ok && type == napi_object) napi_fatal_exception(env, exception);
  return false;
}

// Resolves or rejects a promise; does nothing when the environment can no longer run JS (nobody is left
// to see the outcome).
inline void SettleJs(napi_env env, napi_deferred deferred, bool resolve, napi_value value) {
  if (value == nullptr) napi_get_undefined(env, &value);
  napi_status status = resolve ? napi_resolve_deferred(env, deferred, value) : napi_reject_deferred(env, deferred, value);
  if (status != napi_ok) {
    // Leave nothing pending behind: a termination "exception" must not surface in the next call.
    bool pending = false;
    napi_value ignored;
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending) napi_get_and_clear_last_exception(env, &ignored);
  }
}

// A promise settled from an async worker's completion with SettleJs (node-addon-api's Deferred throws when
// the environment is going away).
class JsPromise {
 public:
  explicit JsPromise(napi_env env) : env_(env) { napi_create_promise(env, &deferred_, &promise_); }
  napi_value promise() const { return promise_; }
  void Resolve(napi_value value = nullptr) { Settle(true, value); }
  void Reject(napi_value value) { Settle(false, value); }

 private:
  void Settle(bool resolve, napi_value value) {
    if (deferred_ == nullptr) return;
    SettleJs(env_, deferred_, resolve, value);
    deferred_ = nullptr;
  }
  napi_env env_;
  napi_deferred deferred_ = nullptr;
  napi_value promise_ = nullptr;
};

}  // namespace kafka_fd
