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
#endif
