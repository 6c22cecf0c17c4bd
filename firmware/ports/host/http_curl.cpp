#include "http_curl.h"

#include <curl/curl.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace teddy::host {

namespace {

struct Sink {
  uint8_t* buf;
  size_t capacity;
  size_t size;
};

size_t write(char* data, size_t one, size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const size_t len = one * n;
  if (len > sink->capacity - sink->size) return 0;  // more than the range asked for: abort the transfer
  std::memcpy(sink->buf + sink->size, data, len);
  sink->size += len;
  return len;
}

}  // namespace

CurlHttpClient::CurlHttpClient() {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  curl_ = curl_easy_init();
}

CurlHttpClient::~CurlHttpClient() {
  curl_easy_cleanup(static_cast<CURL*>(curl_));
  curl_global_cleanup();
}

Status CurlHttpClient::getRange(cbor::Text url, uint32_t offset, uint8_t* buf, size_t capacity, size_t& received) {
  received = 0;
  if (capacity == 0) return Status::Invalid;
  CURL* curl = static_cast<CURL*>(curl_);
  const std::string target(url.data, url.size);
  char range[48];
  std::snprintf(range, sizeof range, "%u-%llu", offset, static_cast<unsigned long long>(offset) + capacity - 1);
  Sink sink{buf, capacity, 0};
  curl_easy_setopt(curl, CURLOPT_URL, target.c_str());
  curl_easy_setopt(curl, CURLOPT_RANGE, range);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &write);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 15000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  if (curl_easy_perform(curl) != CURLE_OK) return Status::IoError;
  long code = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  if (code == 403 || code == 404) return Status::NotFound;
  if (code == 416) return Status::Ok;  // offset at the end: nothing left
  // 206 is the answer to a range; 200 (whole body) is only right when we asked from the start.
  if (code != 206 && !(code == 200 && offset == 0)) return Status::IoError;
  received = sink.size;
  return Status::Ok;
}

}  // namespace teddy::host
