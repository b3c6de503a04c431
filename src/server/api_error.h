#pragma once
// An error the server answers with: HTTP status plus an OpenAI-style error
// object {"error": {"message", "type", "param", "code"}}.
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace dsinfer::server {

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string message, std::string param = "", std::string type = "")
      : std::runtime_error(message), status_(status), param_(std::move(param)), type_(std::move(type)) {
    if (type_.empty()) type_ = default_type(status);
  }
  int status() const { return status_; }
  const std::string& param() const { return param_; }
  const std::string& type() const { return type_; }
  nlohmann::json body() const {
    return {{"error",
             {{"message", what()},
              {"type", type_},
              {"param", param_.empty() ? nlohmann::json(nullptr) : nlohmann::json(param_)},
              {"code", status_}}}};
  }

 private:
  static std::string default_type(int status) {
    switch (status) {
      case 401: return "authentication_error";
      case 404: return "not_found_error";
      case 429: case 503: return "server_overloaded";
      default: return status >= 500 ? "server_error" : "invalid_request_error";
    }
  }
  int status_;
  std::string param_, type_;
};

}  // namespace dsinfer::server
