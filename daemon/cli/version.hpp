#pragma once
namespace ringtun::daemon {
const char* version() noexcept;
}
