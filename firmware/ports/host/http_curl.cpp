#include "http_curl.h"

#include <curl/curl.h>

#include <cstdio>
#include <cstring>

namespace teddy::host {

CurlHttpClient::CurlHttpClient(const TlsFiles& tls) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  multi_ = curl_multi_init();
  CURL* easy = curl_easy_init();
  easy_ = easy;
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &CurlHttpClient::onBody);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 15000L);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
  if (!tls.ca.empty()) curl_easy_setopt(easy, CURLOPT_CAINFO, tls.ca.c_str());
  if (!tls.cert.empty()) curl_easy_setopt(easy, CURLOPT_SSLCERT, tls.cert.c_str());
  if (!tls.key.empty()) curl_easy_setopt(easy, CURLOPT_SSLKEY, tls.key.c_str());
}

CurlHttpClient::~CurlHttpClient() {
  if (inFlight_) curl_multi_remove_handle(static_cast<CURLM*>(multi_), static_cast<CURL*>(easy_));
  curl_easy_cleanup(static_cast<CURL*>(easy_));
  curl_multi_cleanup(static_cast<CURLM*>(multi_));
  curl_global_cleanup();
}

size_t CurlHttpClient::onBody(char* data, size_t one, size_t n, void* self) {
  auto* c = static_cast<CurlHttpClient*>(self);
  const size_t len = one * n;
  if (len > c->length_ - c->size_) {
    c->overflow_ = true;  // more than the range asked for (a server ignoring Range): abort the transfer
    return 0;
  }
  std::memcpy(c->buf_ + c->size_, data, len);
  c->size_ += len;
  return len;
}

Status CurlHttpClient::startRange(cbor::Text url, uint32_t offset, size_t length) {
  if (inFlight_) return Status::Busy;
  if (length == 0) return Status::Invalid;
  if (length > kBufferBytes) return Status::TooLarge;
  CURL* easy = static_cast<CURL*>(easy_);
  url_.assign(url.data, url.size);
  char range[48];
  std::snprintf(range, sizeof range, "%u-%llu", offset, static_cast<unsigned long long>(offset) + length - 1);
  offset_ = offset;
  length_ = length;
  size_ = 0;
  overflow_ = false;
  curl_easy_setopt(easy, CURLOPT_URL, url_.c_str());
  curl_easy_setopt(easy, CURLOPT_RANGE, range);
  if (curl_multi_add_handle(static_cast<CURLM*>(multi_), easy) != CURLM_OK) return Status::IoError;
  inFlight_ = true;
  return Status::Ok;
}

Status CurlHttpClient::pollRange(const uint8_t*& data, size_t& received) {
  received = 0;
  if (!inFlight_) return Status::Invalid;
  CURLM* multi = static_cast<CURLM*>(multi_);
  int running = 0;
  curl_multi_perform(multi, &running);  // non-blocking: only what the sockets allow now
  int left = 0;
  CURLMsg* msg = curl_multi_info_read(multi, &left);
  if (msg == nullptr || msg->msg != CURLMSG_DONE) return Status::Busy;
  const CURLcode result = msg->data.result;
  CURL* easy = static_cast<CURL*>(easy_);
  curl_multi_remove_handle(multi, easy);  // the connection stays in the multi handle's cache
  inFlight_ = false;
  if (result != CURLE_OK) return Status::IoError;
  long code = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
  if (code == 403 || code == 404) return Status::NotFound;
  if (code == 416) return Status::Ok;  // offset at the end: nothing left
  // 206 is the answer to a range; 200 (whole body) is only right when we asked from the start.
  if (code != 206 && !(code == 200 && offset_ == 0)) return Status::IoError;
  data = buf_;
  received = size_;
  return Status::Ok;
}

}  // namespace teddy::host
