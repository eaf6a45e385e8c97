/** @tuna-setup/sdk/torch — PyTorch resolution: releases, drivers, GPUs, platforms, images, the live wheel index, install. */
export {
  CUDA_DRIVERS,
  CUDA_DRIVERS_SOURCE,
  MINOR_COMPAT_FLOORS,
  compareDriver,
  nativeCudaForDriver,
  minDriverFor,
  type CudaDriverRow,
  type DriverRule,
  cudaImageAcceptsDriver,
  gpuBrand,
  CUDA_IMAGE_REQUIREMENTS,
  type GpuBrand,
  type ImageVerdict,
  type CudaImageRequirement,
} from './cuda-drivers.js';
export {
  detectL4t,
  detectGpu,
  parseNvidiaSmiBrands,
  parseNvidiaSmiQuery,
  parseProcDriverVersion,
  type Gpu,
  type GpuReport,
  type DetectOptions,
  type DriverSource,
} from './detect.js';
export { TORCH_RELEASES, WHEEL_ARCHES, archCovers, archesFor, hasPytorchImage, type TorchRelease, type TorchPatch, type ArchRow } from './releases.js';
export { NGC_RELEASES, CUDA_FULL, IMAGE_SOURCES, pytorchImage, cudaImage, type ImageSource, type ImageFlavor, type NgcRelease } from './images.js';
export {
  resolveTorch,
  checkResolveRequest,
  findRelease,
  isCudaSpec,
  PYTORCH_WHEEL_INDEX,
  WHEEL_SOURCES,
  type ResolveRequest,
  type Resolution,
  type WheelSource,
} from './resolve.js';
export { resolveEnvironment, machinePlatform, type EnvironmentRequest, type Environment } from './environment.js';
export { forPlatform, platformOf, hostTorchPlatform, TORCH_PLATFORMS, AARCH64_WHEELS, type TorchPlatform, type Aarch64Row } from './platforms.js';
export { checkListed, type ListedRequest } from './listed.js';
export { liveRelease, type LiveRelease } from './live.js';
export {
  installTorch,
  installResolved,
  checkInstallOptions,
  probePython,
  checkInstalled,
  INSTALLERS,
  type Installer,
  type InstallRequest,
  type InstallOptions,
  type InstallReport,
  type InstalledTorch,
  type PythonInfo,
} from './install.js';
export {
  readWheelIndex,
  parseWheelName,
  normalizePlatform,
  summarizeTorchIndex,
  newestVersion,
  comparePep440,
  wheelIndexCacheFile,
  DEFAULT_WHEEL_INDEX_TTL_MS,
  type WheelFile,
  type WheelIndex,
  type WheelIndexOptions,
  type TorchVersionSummary,
  type NewestOptions,
} from './wheel-index.js';
export { planImages, checkPlan, parseMachine, type ImageMatrix, type ImagePlan, type PlannedImage, type FleetCase, type FleetMachine } from './fleet.js';
