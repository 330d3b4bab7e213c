// Thin shim over EGL 1.5 + OpenGL ES 3.2, with stand-ins for macros Swift cannot import
// (EGL_NO_CONTEXT, EGL_NO_DISPLAY, EGL_NO_SURFACE, EGL_DEFAULT_DISPLAY, EGL_NO_DEVICE_EXT).
#ifndef CGLES_SHIM_H
#define CGLES_SHIM_H
#define GL_GLEXT_PROTOTYPES 1
#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <GLES3/gl32.h>
#include <GLES2/gl2ext.h>

static inline EGLContext cgles_no_context(void) { return EGL_NO_CONTEXT; }
static inline EGLDisplay cgles_no_display(void) { return EGL_NO_DISPLAY; }
static inline EGLSurface cgles_no_surface(void) { return EGL_NO_SURFACE; }
static inline EGLConfig cgles_no_config(void) { return (EGLConfig)0; }
static inline EGLNativeDisplayType cgles_default_display(void) { return EGL_DEFAULT_DISPLAY; }
static inline EGLDeviceEXT cgles_no_device(void) { return EGL_NO_DEVICE_EXT; }

// EGL extension entry points are not exported by libglvnd's libEGL: fetch them at run time.
static inline EGLBoolean cgles_query_devices(EGLint max, EGLDeviceEXT *devices, EGLint *count) {
    PFNEGLQUERYDEVICESEXTPROC f = (PFNEGLQUERYDEVICESEXTPROC)eglGetProcAddress("eglQueryDevicesEXT");
    if (!f) { if (count) *count = 0; return EGL_FALSE; }
    return f(max, devices, count);
}
static inline const char *cgles_query_device_string(EGLDeviceEXT device, EGLint name) {
    PFNEGLQUERYDEVICESTRINGEXTPROC f = (PFNEGLQUERYDEVICESTRINGEXTPROC)eglGetProcAddress("eglQueryDeviceStringEXT");
    return f ? f(device, name) : 0;
}
// EGL 1.5 core eglGetPlatformDisplay, else the EXT entry point (older loaders). `native` is an
// EGLDeviceEXT for EGL_PLATFORM_DEVICE_EXT, or NULL (EGL_DEFAULT_DISPLAY) for surfaceless Mesa.
static inline EGLDisplay cgles_get_platform_display(EGLenum platform, void *native) {
    PFNEGLGETPLATFORMDISPLAYPROC core = (PFNEGLGETPLATFORMDISPLAYPROC)eglGetProcAddress("eglGetPlatformDisplay");
    if (core) return core(platform, native, 0);
    PFNEGLGETPLATFORMDISPLAYEXTPROC ext = (PFNEGLGETPLATFORMDISPLAYEXTPROC)eglGetProcAddress("eglGetPlatformDisplayEXT");
    return ext ? ext(platform, native, 0) : EGL_NO_DISPLAY;
}
// The device an initialised display runs on (EGL_EXT_device_query); EGL_NO_DEVICE_EXT if unknown.
static inline EGLDeviceEXT cgles_display_device(EGLDisplay display) {
    PFNEGLQUERYDISPLAYATTRIBEXTPROC f = (PFNEGLQUERYDISPLAYATTRIBEXTPROC)eglGetProcAddress("eglQueryDisplayAttribEXT");
    EGLAttrib value = 0;
    if (!f || !f(display, EGL_DEVICE_EXT, &value)) return EGL_NO_DEVICE_EXT;
    return (EGLDeviceEXT)value;
}
// glBufferStorageEXT (GL_EXT_buffer_storage: immutable storage that stays mapped), looked up through EGL
// (the GLES library exports core entry points only); 0 if the entry point is missing.
static inline int cgles_buffer_storage(GLenum target, GLsizeiptr size, const void *data, GLbitfield flags) {
    PFNGLBUFFERSTORAGEEXTPROC f = (PFNGLBUFFERSTORAGEEXTPROC)eglGetProcAddress("glBufferStorageEXT");
    if (!f) return 0;
    f(target, size, data, flags);
    return 1;
}
#endif
