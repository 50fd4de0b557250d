#include "kafka_error.h"

#include "addon.h"

namespace kafka_fd {

namespace {

Napi::Error Build(Napi::Env env, const std::string& code, const std::string& message, bool fatal) {
  auto state = Addon::State(env);
  Napi::Object props = Napi::Object::New(env);
  props.Set("code", code);
  props.Set("fatal", fatal);
  if (state->error_class.IsEmpty()) {
    Napi::Error plain = Napi::Error::New(env, message);
    plain.Set("code", code);
    return plain;
  }
  Napi::Value error = state->error_class.New({Napi::String::New(env, message), props});
  return Napi::Error(env, error);
}

}  // namespace

std::string ErrorName(rd_kafka_resp_err_t err) {
  return std::string("ERR_") + rd_kafka_err2name(err);
}

Napi::Error KafkaError(Napi::Env env, rd_kafka_resp_err_t err, const std::string& message, bool fatal) {
  return Build(env, ErrorName(err), message, fatal);
}

Napi::Error KafkaError(Napi::Env env, const char* code, const std::string& message) {
  return Build(env, code, message, false);
}

}  // namespace kafka_fd
