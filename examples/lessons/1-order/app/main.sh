#!/bin/sh
echo "hello, version 1"
