/* fuzz_wire_decode.c - libFuzzer target for the wire decoder: any bytes, read as a stream of
 * frames, decode or are refused cleanly, and every decoded frame re-encodes to the very same
 * bytes. The input is also sealed, as one payload of the kind its first byte picks, in a frame
 * with correct checksums, so the fuzzer reaches the payload parsers without forging CRC32Cs.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test/unit/test_wire.h"
#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Re-encodes a decoded frame and aborts unless it is byte for byte the frame it came from. */
static void check_reencode(const struct wire_frame *f, const uint8_t *frame, size_t frame_len)
{
    size_t size = wire_frame_size(f);
    if (size != frame_len)
        abort();
    uint8_t *buf = xmalloc(size);
    size_t len = 0;
    if (wire_encode_frame(f, buf, size, &len) != WIRE_OK || len != size ||
        memcmp(buf, frame, size) != 0)
        abort();
    free(buf);
}

/* Consumes frames from the front of data until a refusal or a partial frame. */
static void decode_stream(const uint8_t *data, size_t size)
{
    size_t at = 0;
    /* Every frame is longer than its header, so this bound is never the one that stops. */
    for (size_t frames = 0; frames <= size / WIRE_HEADER_BYTES; frames++) {
        struct wire_frame f;
        size_t consumed = 1, needed = 0;
        int rc = wire_decode(data + at, size - at, &f, &consumed, &needed);
        if (rc == WIRE_EAGAIN) {
            if (consumed != 0 || needed == 0)
                abort();
            return;
        }
        if (rc != WIRE_OK) {
            if (consumed != 0 || strcmp(wire_strerror(rc), "unknown wire error") == 0)
                abort();
            return;
        }
        if (consumed <= WIRE_HEADER_BYTES || consumed > size - at)
            abort();
        check_reencode(&f, data + at, consumed);
        if (f.kind == WIRE_KIND_RAFT_MESSAGE) {
            /* The host's check must cope with whatever the decoder lets through. */
            const char *why = NULL;
            volatile int valid = raft_message_validate(&f.raft, f.raft.to, RAFT_MAX_NODES, &why);
            (void)valid;
        }
        wire_frame_free(&f);
        at += consumed;
    }
    abort(); /* unreachable: a frame consumed fewer bytes than its header */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    decode_stream(data, size);
    if (size > 0) {
        struct tw_bytes sealed = {0};
        tw_frame(&sealed, (uint8_t)(WIRE_KIND_RAFT_MESSAGE + data[0] % 3), data + 1, size - 1);
        tw_put_bytes(&sealed, data, size > 20 ? 20 : size); /* and a partial frame after it */
        decode_stream(sealed.p, sealed.len);
        free(sealed.p);
    }
    return 0;
}
