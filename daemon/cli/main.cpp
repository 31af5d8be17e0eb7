// ringtun's executable: the command table (cli/commands) does the rest.
#include "daemon/cli/commands.hpp"

int main(int argc, char** argv) {
    return ringtun::daemon::dispatch(argc, argv);
}
