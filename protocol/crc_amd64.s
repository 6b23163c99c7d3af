#include "textflag.h"

// CRC-32C by carry-less multiplication: four 16-byte lanes are folded
// forward 64 bytes at a time, then folded into one lane, which the CRC32
// instruction reduces. The fold constants are x^n mod P for the
// Castagnoli polynomial, bit-reflected and shifted left by one:
// fold by 512 bits uses n = 512+32 (low half) and 512-32 (high half),
// fold by 128 bits n = 128+32 and 128-32.
DATA fold512<>+0(SB)/8, $0x740eef02
DATA fold512<>+8(SB)/8, $0x9e4addf8
GLOBL fold512<>(SB), RODATA|NOPTR, $16

DATA fold128<>+0(SB)/8, $0xf20c0dfe
DATA fold128<>+8(SB)/8, $0x14cd00bd6
GLOBL fold128<>(SB), RODATA|NOPTR, $16

// func castagnoliFold(reg uint32, p []byte) uint32
// len(p) must be at least 64 and a multiple of 16. reg and the result are
// the CRC register, without the inversions of crc32.Update.
TEXT ·castagnoliFold(SB), NOSPLIT, $0-36
	MOVL reg+0(FP), AX
	MOVQ p_base+8(FP), SI
	MOVQ p_len+16(FP), CX

	MOVOU 0(SI), X0
	MOVOU 16(SI), X1
	MOVOU 32(SI), X2
	MOVOU 48(SI), X3
	MOVQ  AX, X4
	PXOR  X4, X0
	ADDQ  $64, SI
	SUBQ  $64, CX
	MOVOU fold512<>(SB), X8
	MOVOU fold128<>(SB), X9

	JMP ·castagnoliFoldLanes(SB)

// func castagnoliFoldLanes(reg uint32, p []byte) uint32
// The end both folds jump to (never called from Go), with four lanes 64
// bytes apart in X0-X3, the fold constants in X8 (512 bits) and X9 (128),
// and what remains of p at SI, its length (a multiple of 16) in CX. Its
// frame is theirs: it writes their result.
TEXT ·castagnoliFoldLanes(SB), NOSPLIT, $0-36
loop64:
	CMPQ CX, $64
	JB   lanes
	MOVO X0, X4
	MOVO X1, X5
	MOVO X2, X6
	MOVO X3, X7
	PCLMULQDQ $0x00, X8, X0
	PCLMULQDQ $0x00, X8, X1
	PCLMULQDQ $0x00, X8, X2
	PCLMULQDQ $0x00, X8, X3
	PCLMULQDQ $0x11, X8, X4
	PCLMULQDQ $0x11, X8, X5
	PCLMULQDQ $0x11, X8, X6
	PCLMULQDQ $0x11, X8, X7
	MOVOU 0(SI), X10
	MOVOU 16(SI), X11
	MOVOU 32(SI), X12
	MOVOU 48(SI), X13
	PXOR X4, X0
	PXOR X5, X1
	PXOR X6, X2
	PXOR X7, X3
	PXOR X10, X0
	PXOR X11, X1
	PXOR X12, X2
	PXOR X13, X3
	ADDQ $64, SI
	SUBQ $64, CX
	JMP  loop64

lanes:
	// Fold lanes 0-2 into lane 3, one 128-bit step at a time.
	MOVO X0, X4
	PCLMULQDQ $0x00, X9, X0
	PCLMULQDQ $0x11, X9, X4
	PXOR X4, X0
	PXOR X1, X0
	MOVO X0, X4
	PCLMULQDQ $0x00, X9, X0
	PCLMULQDQ $0x11, X9, X4
	PXOR X4, X0
	PXOR X2, X0
	MOVO X0, X4
	PCLMULQDQ $0x00, X9, X0
	PCLMULQDQ $0x11, X9, X4
	PXOR X4, X0
	PXOR X3, X0

loop16:
	CMPQ CX, $16
	JB   reduce
	MOVO X0, X4
	PCLMULQDQ $0x00, X9, X0
	PCLMULQDQ $0x11, X9, X4
	MOVOU 0(SI), X10
	PXOR X4, X0
	PXOR X10, X0
	ADDQ $16, SI
	SUBQ $16, CX
	JMP  loop16

reduce:
	// The lane is congruent to the whole input: its CRC from a zero
	// register is the input's.
	MOVQ   X0, AX
	PEXTRQ $1, X0, BX
	XORL   DX, DX
	CRC32Q AX, DX
	CRC32Q BX, DX
	MOVL   DX, ret+32(FP)
	RET

DATA fold2048<>+0(SB)/8, $0xdcb17aa4
DATA fold2048<>+8(SB)/8, $0xb9e02b86
GLOBL fold2048<>(SB), RODATA|NOPTR, $16

// func castagnoliFoldWide(reg uint32, p []byte) uint32
// castagnoliFold with AVX-512: sixteen 16-byte lanes in four 512-bit
// registers fold forward 256 bytes at a time (n = 2048+32 and 2048-32),
// then into one register, fold by 512 bits, whose four lanes are the
// narrow code's four, which finishes as castagnoliFold does.
// len(p) must be at least 256 and a multiple of 16.
TEXT ·castagnoliFoldWide(SB), NOSPLIT, $0-36
	MOVL reg+0(FP), AX
	MOVQ p_base+8(FP), SI
	MOVQ p_len+16(FP), CX

	VMOVDQU64 0(SI), Z0
	VMOVDQU64 64(SI), Z1
	VMOVDQU64 128(SI), Z2
	VMOVDQU64 192(SI), Z3
	VMOVQ     AX, X4
	VPXORQ    Z4, Z0, Z0
	ADDQ      $256, SI
	SUBQ      $256, CX
	VBROADCASTI32X4 fold2048<>(SB), Z8
	VBROADCASTI32X4 fold512<>(SB), Z9

loop256:
	CMPQ CX, $256
	JB   fold4
	VMOVDQU64  0(SI), Z10
	VMOVDQU64  64(SI), Z11
	VMOVDQU64  128(SI), Z12
	VMOVDQU64  192(SI), Z13
	VPCLMULQDQ $0x00, Z8, Z0, Z4
	VPCLMULQDQ $0x00, Z8, Z1, Z5
	VPCLMULQDQ $0x00, Z8, Z2, Z6
	VPCLMULQDQ $0x00, Z8, Z3, Z7
	VPCLMULQDQ $0x11, Z8, Z0, Z0
	VPCLMULQDQ $0x11, Z8, Z1, Z1
	VPCLMULQDQ $0x11, Z8, Z2, Z2
	VPCLMULQDQ $0x11, Z8, Z3, Z3
	VPTERNLOGD $0x96, Z10, Z4, Z0
	VPTERNLOGD $0x96, Z11, Z5, Z1
	VPTERNLOGD $0x96, Z12, Z6, Z2
	VPTERNLOGD $0x96, Z13, Z7, Z3
	ADDQ       $256, SI
	SUBQ       $256, CX
	JMP        loop256

fold4:
	// Register 0 into 1, 1 into 2, 2 into 3, 64 bytes apart.
	VPCLMULQDQ $0x00, Z9, Z0, Z4
	VPCLMULQDQ $0x11, Z9, Z0, Z0
	VPTERNLOGD $0x96, Z4, Z0, Z1
	VPCLMULQDQ $0x00, Z9, Z1, Z4
	VPCLMULQDQ $0x11, Z9, Z1, Z1
	VPTERNLOGD $0x96, Z4, Z1, Z2
	VPCLMULQDQ $0x00, Z9, Z2, Z4
	VPCLMULQDQ $0x11, Z9, Z2, Z2
	VPTERNLOGD $0x96, Z4, Z2, Z3
	VEXTRACTI32X4 $0, Z3, X0
	VEXTRACTI32X4 $1, Z3, X1
	VEXTRACTI32X4 $2, Z3, X2
	VEXTRACTI32X4 $3, Z3, X3
	// Clean upper state before the SSE code below: mixing the two
	// otherwise stalls some Intel CPUs.
	VZEROUPPER
	MOVOU fold512<>(SB), X8
	MOVOU fold128<>(SB), X9

	JMP ·castagnoliFoldLanes(SB)

// func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL leaf+0(FP), AX
	MOVL sub+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET
