# workloads.sh: the benchmark's build contexts, generated under $T/work, and
# the one change each "change" rebuild makes. Sourced by run.sh.
#
#   W1  busybox base; COPY of 8,000 files (110 MB in 80 directories, half of
#       the bytes random, half Go source text); one RUN over them.
#   W2  busybox base; 40 small steps: 20 RUN, 10 ENV, 10 LABEL.
#   W3  busybox base; COPY of a seed file and an 8 MB tar, then a chain of 12
#       RUN steps, each unpacking the tar (512 files, half random) into a new
#       directory and appending to a file of the layer below (a copy-up),
#       then one RUN over everything: 14 layers deep, ~100 MB of layers made
#       by RUN. Each RUN layer must be diffed, tarred, compressed and stored,
#       and (in minibuild) unpacked again as the next step's lower directory.
#   W4  Debian bookworm base (debootstrap minbase, one layer: 121 MB of tar,
#       49 MB gzipped); a RUN copying 97 MB / 8,070 of its files (/usr/lib,
#       /usr/share, twice more zoneinfo and man), a RUN rewriting 500 of the
#       base's files (Perl sources, sed -i), a RUN deleting 2,922 (locale and
#       doc trees, the files of man and zoneinfo: 1,880 whiteouts), a COPY of
#       600 files (2.4 MB of source text in 20 directories), a RUN over them.
#       Its floor (floor_W4) is the same work without a builder: the base
#       layer unpacked with tar and the same commands run in a chroot.
#
# The change of each workload: W1 rewrites one source file with new random
# bytes of the same size; W2 edits its 21st step (a RUN); W3 rewrites the
# seed file, so every RUN of the chain misses; W4 appends a line to one of
# the 600 app files (the COPY and the RUN after it miss).

W1_DIRS=80 W1_PER_KIND=50 W1_FILE=13750 # 80 x (50 + 50) files of 13,750 bytes
W3_STEPS=12 W3_FILES=256 W3_FILE=16384  # per kind: 256 random + 256 text files
W4_DIRS=20 W4_PER_DIR=30 W4_FILE=4096   # the app: 20 x 30 files of 4 KiB

# W4's RUN steps: the three before the COPY of the app, then the one after.
W4_RUNS_BEFORE=(
	'mkdir -p /opt/copy/extra1 /opt/copy/extra2 && cp -a /usr/lib /usr/share /opt/copy/ && cp -a /usr/share/zoneinfo /usr/share/man /opt/copy/extra1/ && cp -a /usr/share/zoneinfo /usr/share/man /opt/copy/extra2/'
	"find /usr/share/perl5 /usr/lib/x86_64-linux-gnu/perl-base -type f -name '*.p[lm]' | LC_ALL=C sort | head -n 500 | xargs sed -i '1i # rewritten by W4'"
	'rm -rf /usr/share/locale /usr/share/doc && find /usr/share/man /usr/share/zoneinfo -type f -delete'
)
W4_RUN_AFTER='find /app -type f | LC_ALL=C sort | xargs cat | md5sum > /app.md5'

# text_source writes at least $1 bytes of Go source text (compressible like
# real code, about 4:1 with gzip) to stdout.
text_source() {
	local need=$1 have=0 f
	f=$T/gen/text
	if [ ! -s "$f" ]; then
		find "$(go env GOROOT)/src" -name '*.go' -type f -print0 | sort -z | xargs -0 cat >"$f"
	fi
	while [ "$have" -lt "$need" ]; do
		cat "$f"
		have=$((have + $(stat -c %s "$f")))
	done | head -c "$need" || true # cat ends on SIGPIPE once head has enough
}

gen_W1() {
	local d=$T/work/W1 n=$((W1_DIRS * W1_PER_KIND * W1_FILE)) i sub
	mkdir -p "$d/src" "$T/gen"
	head -c "$n" /dev/urandom >"$T/gen/w1-random"
	text_source "$n" >"$T/gen/w1-text"
	for i in $(seq 0 $((W1_DIRS - 1))); do
		sub=$d/src/d$(printf %02d "$i")
		mkdir -p "$sub"
		dd if="$T/gen/w1-random" bs="$W1_FILE" skip=$((i * W1_PER_KIND)) count="$W1_PER_KIND" 2>/dev/null |
			split -b "$W1_FILE" -d -a 2 - "$sub/r"
		dd if="$T/gen/w1-text" bs="$W1_FILE" skip=$((i * W1_PER_KIND)) count="$W1_PER_KIND" 2>/dev/null |
			split -b "$W1_FILE" -d -a 2 - "$sub/t"
	done
	rm -f "$T/gen/w1-random" "$T/gen/w1-text"
	cat >"$d/Dockerfile" <<-'EOF'
		FROM busybox
		COPY src /src
		RUN find /src -type f | wc -l > /count
	EOF
}

change_W1() {
	head -c "$W1_FILE" /dev/urandom >"$T/work/W1/src/d40/r25"
}

gen_W2() {
	local d=$T/work/W2 i
	mkdir -p "$d"
	{
		echo "FROM busybox"
		for i in $(seq 1 40); do
			case $((i % 4)) in
			1) echo "RUN echo step $i rev 0 > /s$i" ;;
			2) echo "ENV V$i=value$i" ;;
			3) echo "LABEL bench.l$i=\"label $i\"" ;;
			0) echo "RUN mkdir -p /d$i && echo \$V$((i - 2)) > /d$i/v" ;;
			esac
		done
	} >"$d/Dockerfile"
}

change_W2() {
	CHANGE_REV=$((${CHANGE_REV:-0} + 1))
	sed -i "s|^RUN echo step 21 rev [0-9]* |RUN echo step 21 rev $CHANGE_REV |" "$T/work/W2/Dockerfile"
}

gen_W3() {
	local d=$T/work/W3 p=$T/gen/w3/p i prev
	mkdir -p "$d" "$p"
	head -c $((W3_FILES * W3_FILE)) /dev/urandom | split -b "$W3_FILE" -d -a 3 - "$p/r"
	text_source $((W3_FILES * W3_FILE)) | split -b "$W3_FILE" -d -a 3 - "$p/t"
	tar --format=ustar --sort=name --owner=0 --group=0 -C "$T/gen/w3" -cf "$d/payload.tar" p
	echo 0 >"$d/seed.txt"
	{
		echo "FROM busybox"
		echo "COPY seed.txt payload.tar /w3/"
		for i in $(seq 1 "$W3_STEPS"); do
			printf -v cur '/d%02d' "$i"
			printf -v prev '/d%02d' $((i > 1 ? i - 1 : 1))
			echo "RUN mkdir $cur && tar -xf /w3/payload.tar -C $cur && cat /w3/seed.txt >> $prev/p/t000"
		done
		echo "RUN find /d* -type f | wc -l > /count"
	} >"$d/Dockerfile"
}

change_W3() {
	CHANGE_REV=$((${CHANGE_REV:-0} + 1))
	echo "$CHANGE_REV" >"$T/work/W3/seed.txt"
}

gen_W4() {
	local d=$T/work/W4 i sub c
	mkdir -p "$d/app"
	text_source $((W4_DIRS * W4_PER_DIR * W4_FILE)) >"$T/gen/w4-text"
	for i in $(seq 0 $((W4_DIRS - 1))); do
		sub=$d/app/m$(printf %02d "$i")
		mkdir -p "$sub"
		dd if="$T/gen/w4-text" bs="$W4_FILE" skip=$((i * W4_PER_DIR)) count="$W4_PER_DIR" 2>/dev/null |
			split -b "$W4_FILE" -d -a 2 --additional-suffix=.go - "$sub/f"
	done
	rm -f "$T/gen/w4-text"
	{
		echo "FROM debian"
		for c in "${W4_RUNS_BEFORE[@]}"; do echo "RUN $c"; done
		echo "COPY app /app"
		echo "RUN $W4_RUN_AFTER"
	} >"$d/Dockerfile"
}

change_W4() {
	CHANGE_REV=$((${CHANGE_REV:-0} + 1))
	echo "// change $CHANGE_REV" >>"$T/work/W4/app/m10/f15.go"
}

# floor_W4 DIR does W4's work without a builder, into DIR (which must not
# exist): unpacks the base's layer with tar, makes the device nodes a
# runtime makes, and runs the Dockerfile's steps in a chroot, writing no
# layer. The Dockerfile's RUN runs /bin/sh -c with the image's PATH.
floor_W4() {
	local root=$1 c
	local -a in_root=(env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root chroot "$root" /bin/sh -c)
	mkdir "$root" &&
		pigz -dc "$(base_layer W4)" | tar -x -C "$root" --numeric-owner &&
		mknod -m 666 "$root/dev/null" c 1 3 && mknod -m 666 "$root/dev/zero" c 1 5 &&
		mknod -m 666 "$root/dev/full" c 1 7 && mknod -m 666 "$root/dev/random" c 1 8 &&
		mknod -m 666 "$root/dev/urandom" c 1 9 || return 1
	for c in "${W4_RUNS_BEFORE[@]}"; do "${in_root[@]}" "$c" || return 1; done
	cp -r "$T/work/W4/app" "$root/app" && "${in_root[@]}" "$W4_RUN_AFTER"
}
