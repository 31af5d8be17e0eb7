#include <cstdio>

#include "daemon/version.hpp"

int main() {
    std::printf("ringtun %s\n", ringtun::daemon::version());
    return 0;
}
