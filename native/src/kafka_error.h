#pragma once
// Builds KafkaFdError instances (the JS class of lib/errors) from C++, so that JS never sees a bare string
// or a plain Error from the addon.
#include <librdkafka/rdkafka.h>
#include <napi.h>

#include <string>

namespace kafka_fd {

// librdkafka's error name as JS sees it: "ERR_" + rd_kafka_err2name, e.g. ERR__TRANSPORT, ERR_TOPIC_...
std::string ErrorName(rd_kafka_resp_err_t err);

// A KafkaFdError with code = librdkafka's error name (e.g. "ERR__STATE"); the JS class derives `retriable`
// from the code, so the list of retriable codes lives in one place (lib/errors).
Napi::Error KafkaError(Napi::Env env, rd_kafka_resp_err_t err, const std::string& message, bool fatal = false);

// The same, from an error name that librdkafka does not have (e.g. "ERR__INVALID_ARG" for bad input).
Napi::Error KafkaError(Napi::Env env, const char* code, const std::string& message);

}  // namespace kafka_fd
