#!/usr/bin/env bash
# netns.endpoint_names with peer B dialed over TCP (see endpoint_names.sh).
exec bash "$(dirname "$0")/endpoint_names.sh" tcp
