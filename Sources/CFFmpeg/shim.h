// Thin shim over FFmpeg 5.1: the headers Swift needs, plus inline stand-ins for macros
// that do not import into Swift (AVERROR(...), AVERROR_EOF, AV_NOPTS_VALUE, av_err2str).
#ifndef CFFMPEG_SHIM_H
#define CFFMPEG_SHIM_H
#include <errno.h>
#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libavcodec/bsf.h>
#include <libavutil/avutil.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/channel_layout.h>
#include <libavutil/display.h>
#include <libavutil/error.h>
#include <libavutil/hwcontext.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libavutil/samplefmt.h>
#include <libswscale/swscale.h>
#include <libswresample/swresample.h>

static inline int cffmpeg_averror(int e) { return AVERROR(e); }
static inline int cffmpeg_eagain(void) { return AVERROR(EAGAIN); }
static inline int cffmpeg_eof(void) { return AVERROR_EOF; }
static inline int cffmpeg_enomem(void) { return AVERROR(ENOMEM); }
static inline int64_t cffmpeg_nopts(void) { return AV_NOPTS_VALUE; }
static inline int cffmpeg_time_base(void) { return AV_TIME_BASE; }
static inline AVRational cffmpeg_time_base_q(void) { return AV_TIME_BASE_Q; }
static inline int cffmpeg_strerror(int err, char *buf, size_t size) { return av_strerror(err, buf, size); }
static inline int cffmpeg_error_invaliddata(void) { return AVERROR_INVALIDDATA; }
static inline int cffmpeg_error_stream_not_found(void) { return AVERROR_STREAM_NOT_FOUND; }
static inline int cffmpeg_error_decoder_not_found(void) { return AVERROR_DECODER_NOT_FOUND; }
static inline int cffmpeg_error_exit(void) { return AVERROR_EXIT; }
/* Chroma plane size rounds up (AV_CEIL_RSHIFT is a macro). */
static inline int cffmpeg_ceil_rshift(int a, int b) { return -((-a) >> b); }

// Hardware decoding through NVDEC: the decoder's get_format callback takes CUDA frames when the stream
// offers them, else FFmpeg's default (the first software format). A C function: Swift closures cannot
// be C callbacks that FFmpeg calls from its own threads.
static inline enum AVPixelFormat cffmpeg_prefer_cuda(AVCodecContext *ctx, const enum AVPixelFormat *formats) {
    for (const enum AVPixelFormat *p = formats; *p != AV_PIX_FMT_NONE; p++) {
        if (*p == AV_PIX_FMT_CUDA) return *p;
    }
    return avcodec_default_get_format(ctx, formats);
}
static inline void cffmpeg_decode_to_cuda(AVCodecContext *ctx) { ctx->get_format = cffmpeg_prefer_cuda; }

// FFmpeg's own log callback back in place (Swift cannot pass the variadic av_log_default_callback).
static inline void cffmpeg_restore_default_log(void) { av_log_set_callback(av_log_default_callback); }
#endif
