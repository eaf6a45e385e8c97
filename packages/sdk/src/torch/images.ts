/**
 * Container images as data, and their tag schemes:
 * - `pytorch/pytorch:<torch>-cuda<X.Y>-cudnn<N>-<flavor>` (Docker Hub; one per
 *   CUDA variant of the release; no NVIDIA_REQUIRE_CUDA, so minor-version
 *   compatibility applies as for wheels);
 * - `nvidia/cuda:<X.Y.Z>-cudnn[8|9]-<flavor>-ubuntu<V>` (NVIDIA_REQUIRE_CUDA:
 *   the driver's own CUDA must be ≥ X.Y);
 * - `nvcr.io/nvidia/pytorch:<YY.MM>-py3` (NGC; NVIDIA's own torch build; the
 *   driver's own CUDA must be ≥ the release's CUDA).
 * Sources: pytorch/test-infra generate_docker_release_matrix.py (pytorch/pytorch
 * tags), gitlab.com/nvidia/container-images/cuda (nvidia/cuda tags), the NGC
 * PyTorch release notes (docs.nvidia.com/deeplearning/frameworks).
 */

export type ImageSource = 'pytorch' | 'ngc' | 'cuda';
/** An image's flavour: `runtime` (libraries only) or `devel` (with the CUDA toolkit's compilers and headers). */
export type ImageFlavor = 'runtime' | 'devel';
/** Every `ImageSource`, as a list. */
export const IMAGE_SOURCES: readonly ImageSource[] = ['pytorch', 'ngc', 'cuda'];

/** One NGC PyTorch container release (`nvcr.io/nvidia/pytorch:<tag>`): NVIDIA's torch build and the CUDA it ships. */
export interface NgcRelease {
  tag: string;
  /** the torch base version NVIDIA's build reports (without a0+hash.nvYY.MM) */
  torch: string;
  cuda: string;
  source: string;
}

const NGC_SRC = 'torch.__version__ strings reported in stored repos; NGC release notes pattern (research/torch-cuda.md §5.3)';
// a stored third-party table of the 24.02–24.10 containers (Ubuntu, CUDA, torch, Python), "all from NVIDIA's release notes"
const NGC_NOTES_COPY = 'NGC PyTorch release notes rel-24-xx as tabulated in a stored Megatron-Core guide (CUDA 12.4.1 / 12.5.1 / 12.6.2)';

/** NGC PyTorch releases with a known CUDA, oldest first. */
export const NGC_RELEASES: readonly NgcRelease[] = [
  { tag: '24.04-py3', torch: '2.3.0', cuda: '12.4', source: NGC_SRC },
  { tag: '24.05-py3', torch: '2.4.0', cuda: '12.4', source: NGC_NOTES_COPY },
  { tag: '24.07-py3', torch: '2.4.0', cuda: '12.5', source: `${NGC_NOTES_COPY}; 2.4.0a0+3bcc3cddb5.nv24.07 seen in stored Dockerfiles` },
  { tag: '24.10-py3', torch: '2.5.0', cuda: '12.6', source: `${NGC_NOTES_COPY}; 2.5.0a0+e000cf0ad9.nv24.10 with CUDA 12.6 in several stored reports` },
  { tag: '24.12-py3', torch: '2.6.0', cuda: '12.6', source: `${NGC_SRC}; 2.6.0a0+df5bbc09d1.nv24.12 with container CUDA 12.6 in several stored reports` },
  { tag: '25.01-py3', torch: '2.6.0', cuda: '12.8', source: NGC_SRC },
  { tag: '25.04-py3', torch: '2.7.0', cuda: '12.9', source: NGC_SRC },
  { tag: '25.06-py3', torch: '2.8.0', cuda: '12.9', source: NGC_SRC },
  { tag: '25.09-py3', torch: '2.9.0', cuda: '13.0', source: NGC_SRC },
  { tag: '25.10-py3', torch: '2.9.0', cuda: '13.0', source: `${NGC_SRC}; Triton compat page (driver 580.95.05)` },
  { tag: '25.11-py3', torch: '2.9.0', cuda: '13.0', source: `${NGC_SRC}; Triton compat page (driver 580.95.05)` },
  {
    tag: '25.12-py3',
    torch: '2.10.0',
    cuda: '13.1',
    source: `${NGC_SRC}: 2.10.0a0+b4e4ee81d3.nv25.12 with CUDA 13.1 in several stored reports (research/torch-cuda.md corrections)`,
  },
  { tag: '26.02-py3', torch: '2.11.0', cuda: '13.1', source: NGC_SRC },
  { tag: '26.03-py3', torch: '2.11.0', cuda: '13.2', source: NGC_SRC },
  { tag: '26.04-py3', torch: '2.12.0', cuda: '13.2', source: NGC_SRC },
  { tag: '26.06-py3', torch: '2.13.0', cuda: '13.3', source: `${NGC_SRC}; needs the CUDA 13.3 driver row (610.43.02)` },
];

/** The full CUDA version PyTorch builds (and nvidia/cuda tags) use per X.Y (test-infra CUDA_CUDNN_VERSIONS; nvidia/cuda tags). */
export const CUDA_FULL: Readonly<Record<string, string>> = {
  '11.7': '11.7.1',
  '11.8': '11.8.0',
  '12.1': '12.1.1',
  '12.4': '12.4.1',
  '12.6': '12.6.3',
  '12.8': '12.8.1',
  '12.9': '12.9.1',
  '13.0': '13.0.2',
  '13.2': '13.2.1',
};

/** The pytorch/pytorch image reference `pytorch/pytorch:<torch>-cuda<X.Y>-cudnn<N>-<flavor>`; it does not check that the tag exists. */
export function pytorchImage(torch: string, cuda: string, cudnn: number, flavor: ImageFlavor): string {
  return `pytorch/pytorch:${torch}-cuda${cuda}-cudnn${cudnn}-${flavor}`;
}

/**
 * nvidia/cuda naming: cudnn8 up to 12.2, cudnn9 for 12.3, then an unnumbered
 * `cudnn` (cuDNN 9); Ubuntu 24.04 from 12.6, 22.04 before.
 */
export function cudaImage(cuda: string, flavor: ImageFlavor): string | undefined {
  const full = CUDA_FULL[cuda];
  if (!full) return undefined;
  const [major, minor] = cuda.split('.').map(Number) as [number, number];
  const n = major * 10 + minor;
  const cudnn = n <= 122 ? 'cudnn8' : n === 123 ? 'cudnn9' : 'cudnn';
  const ubuntu = n >= 126 ? '24.04' : '22.04';
  return `nvidia/cuda:${full}-${cudnn}-${flavor}-ubuntu${ubuntu}`;
}

export const ngcImage = (tag: string) => `nvcr.io/nvidia/pytorch:${tag}`;
