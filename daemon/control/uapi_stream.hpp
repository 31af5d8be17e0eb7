// A UAPI connection as the backend serves it: a UapiSession applied through a DeviceConfig of
// its own (so requests on several connections do not mix).
#pragma once

#include "daemon/control/device_config.hpp"
#include "daemon/control/stream_session.hpp"
#include "daemon/control/uapi_session.hpp"

namespace ringtun::daemon::control {

class UapiStream final : public StreamSession {
  public:
    UapiStream(Device& device, SocketSettings& sockets, DeviceConfig::ReloadFn reload)
        : config_(device, sockets) {
        config_.set_reload(std::move(reload));
    }

    std::size_t feed(std::string_view in, std::string& out, const Now& now) override {
        config_.set_now(now);
        return session_.feed(in, config_, out);
    }
    void end_of_input(std::string& out, const Now& now) override {
        config_.set_now(now);
        session_.end_of_input(config_, out);
    }
    bool done() const noexcept override { return session_.done(); }

  private:
    DeviceConfig config_;
    UapiSession session_;
};

}  // namespace ringtun::daemon::control
