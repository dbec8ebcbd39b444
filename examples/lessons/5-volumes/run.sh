#!/usr/bin/env bash
# Lesson 5: volumes versus the writable layer. Every 'minibuild run' puts a
# fresh writable layer over the image and throws it away when the command
# exits; a volume is a folder of the store that outlives the containers.
source "$(dirname "$0")/../lib.sh"
base
ctx=$(lesson "$(dirname "$0")")
mb -t lesson5:app --progress quiet "$ctx" >/dev/null

echo "--- run 1 writes /note (the writable layer) and /data/note (the volume 'notes')"
mb run -v notes:/data lesson5:app -- sh -c 'echo "written by run 1" | tee /note /data/note'

echo
echo "--- run 2, a new container, looks for both"
mb run -v notes:/data lesson5:app -- sh -c 'cat /note 2>&1; cat /data/note'

echo
echo "--- the volume was new at run 1, so it started with the image's /data"
mb run -v notes:/data lesson5:app -- ls /data

echo
echo "--- --diff shows the writable layer's changes, never the volume's"
mb run --diff -v notes:/data lesson5:app -- sh -c 'echo more >> /data/note; echo x > /scratch'

echo
echo "--- the volume lives in the store until removed"
mb volume ls
mb volume rm notes
