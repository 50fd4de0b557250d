#pragma once
// A libuv handle on the heap, closed with uv_close and freed in its close callback (a handle may not be
// freed before libuv is done with it). Move-only; Reset() is idempotent.
#include <uv.h>

#include <utility>

namespace kafka_fd {

template <typename T>
class UvHandle {
 public:
  UvHandle() = default;
  UvHandle(const UvHandle&) = delete;
  UvHandle& operator=(const UvHandle&) = delete;
  UvHandle(UvHandle&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  ~UvHandle() { Reset(); }

  // Allocates the handle; the caller runs uv_*_init on Get() and must call Reset() if that fails.
  T* Allocate() {
    Reset();
    handle_ = new T{};
    return handle_;
  }

  T* Get() const { return handle_; }
  explicit operator bool() const { return handle_ != nullptr; }

  void Reset() {
    if (handle_ == nullptr) return;
    auto* h = reinterpret_cast<uv_handle_t*>(std::exchange(handle_, nullptr));
    h->data = nullptr;  // callbacks already queued check this before touching their owner
    uv_close(h, [](uv_handle_t* closed) { delete reinterpret_cast<T*>(closed); });
  }

 private:
  T* handle_ = nullptr;
};

}  // namespace kafka_fd
