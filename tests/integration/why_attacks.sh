#!/usr/bin/env bash
# Placeholder: the attacker scenarios of issue 8 land here.
exit 77
