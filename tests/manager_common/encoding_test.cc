// Base64 and hex as the plugins write and read them (Go's base64.StdEncoding, strict).
#include <catch2/catch.hpp>

#include <string>

#include "flyte/manager/encoding.h"

namespace flyte::plugins::manager {
namespace {

TEST_CASE("Base64 writes RFC 4648's test vectors and reads them back", "[unit]") {
  const std::pair<std::string, std::string> vectors[] = {
      {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
  for (const auto& [bytes, text] : vectors) {
    CAPTURE(bytes);
    CHECK(Base64(bytes) == text);
    auto back = Base64Decode(text);
    REQUIRE(back);
    CHECK(*back == bytes);
  }
  // Every byte value, at every length modulo 3.
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (size_t n = 0; n <= all.size(); n += 37) {
    std::string part = all.substr(0, n) + std::string(n % 3, '\0');
    auto back = Base64Decode(Base64(part));
    REQUIRE(back);
    CHECK(*back == part);
  }
  // An MD5 digest, as the data proxy's Content-MD5 headers carry it.
  CHECK(Base64(std::string("\xd4\x1d\x8c\xd9\x8f\x00\xb2\x04\xe9\x80\x09\x98\xec\xf8\x42\x7e", 16)) ==
        "1B2M2Y8AsgTpgAmY7PhCfg==");
}

TEST_CASE("Base64Decode refuses whatever is not the canonical encoding", "[unit]") {
  for (const char* text : {"Zg=", "Zg", "Zh==", "Zm9=", "Z===", "====", "Zg==Zg==", "=Zg=",
                           " Zg=", "Zm9v\n", "Zm9v ", "Zm9-", "Zm9_", "Zm9\x01", "Zm9v===="}) {
    CAPTURE(text);
    CHECK_FALSE(Base64Decode(text));
  }
  CHECK_FALSE(Base64Decode(std::string("Zm\0v", 4)));
}

TEST_CASE("LowerHex writes two lowercase digits per byte", "[unit]") {
  CHECK(LowerHex("") == "");
  CHECK(LowerHex(std::string("\x00\x0f\xa0\xff", 4)) == "000fa0ff");
}

}  // namespace
}  // namespace flyte::plugins::manager
