#!/bin/sh
echo "running $(cat /app/VERSION)"
