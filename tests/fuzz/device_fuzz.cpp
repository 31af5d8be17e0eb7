// libFuzzer target for the device's receive path (Device::on_network_packet: what the UDP
// and TCP receives hand it): handshake initiations, responses and cookie replies through
// every check the real path makes (mac1, the load rule and mac2, decryption, timestamps),
// and data through index lookup, the AEAD, the replay window and the decrypted packet's
// checks. The device is built once (device_fixture.hpp) with a session already up, and put
// back after each input, so that every input is judged alone and cheaply; the input layout
// and the invariants are in device_input.hpp.
#include <cstddef>
#include <cstdint>

#include "device_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static ringtun::fuzz::DeviceFixture fixture;
    ringtun::fuzz::run_input(fixture, {data, size});
    return 0;
}
