/*
 * bcryptprimitives.dll for Wine 8: one function, ProcessPrng.
 *
 * The Go runtime (1.22 and later) fills its random state from
 * bcryptprimitives.dll!ProcessPrng when a Windows program starts. Debian 12's
 * Wine 8.0 ships no such export, so every Go .exe dies before main. This DLL
 * provides it over advapi32's SystemFunction036 (RtlGenRandom), which Wine
 * has; scripts/wine-setup.sh builds it with MinGW into the test prefix.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

/* ProcessPrng never fails on Windows; here it reports RtlGenRandom's answer,
 * in pieces a ULONG can count. */
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE out, SIZE_T size)
{
    const SIZE_T piece = 1u << 28;
    while (size > 0) {
        ULONG n = (ULONG)(size < piece ? size : piece);
        if (!SystemFunction036(out, n))
            return FALSE;
        out += n;
        size -= n;
    }
    return TRUE;
}

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved)
{
    (void)instance; (void)reason; (void)reserved;
    return TRUE;
}
