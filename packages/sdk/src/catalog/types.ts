/**
 * The shape of a mirror in the catalog. A mirror is a site that serves some of
 * the services tuna-setup configures; each service row carries the source it
 * was read from and the date it was checked, because mirror layouts change
 * and a reader must be able to tell a fact from a guess.
 */
export type ServiceName = 'pypi' | 'conda' | 'pytorchWheels' | 'dockerHub' | 'miniforge' | 'status';

/** Where a service row's facts were read and when they were checked; every service row carries one. */
export interface Provenance {
  /** where the fact was read (repository/path, doc page, issue) */
  source: string;
  /** when the source was checked, YYYY-MM-DD or YYYY-MM */
  checked: string;
  /** caveats a user should know: redirects, licence gaps, inferred rows */
  note?: string;
  /** why the row could not be checked against the mirror's own sources (e.g. third-party use only); absent: verified */
  unverified?: string;
}

/** A mirror's PyPI simple index. */
export interface PypiService extends Provenance {
  /** PEP 503 simple index, no trailing slash */
  index: string;
}

/** A mirror's conda channels: its copies of the default channels, and a cloud serving community channels such as conda-forge. */
export interface CondaService extends Provenance {
  /** what goes into `default_channels` (main, r, msys2 …) */
  defaultChannels: string[];
  /** base URL for `custom_channels`: `<cloud>/<channel>` serves the channel */
  cloud: string;
  /** cloud channels this mirror really carries */
  channels: string[];
  /** well-known channels it does not carry (e.g. nvidia, for licence reasons) */
  lacks?: string[];
  /**
   * platform subdirs a channel lacks on this mirror (`pkgs/main` for the
   * default channels): conda reads a missing non-noarch subdir as an empty
   * channel, silently, so such a mirror has nothing for that machine
   */
  lacksSubdirs?: Record<string, string[]>;
}

/** A mirror's copy of the PyTorch wheel index (download.pytorch.org/whl), one directory per CUDA variant. */
export interface PytorchWheelsService extends Provenance {
  /** `<index>/<variant>` serves the wheels of one CUDA variant */
  index: string;
  /** pep503: use as --index-url; find-links: a flat listing for -f */
  layout: 'pep503' | 'find-links';
}

/** A service a mirror serves at a single URL. */
export interface UrlService extends Provenance {
  url: string;
}

/** A mirror's sync-status JSON, in tunasync's or mirrorz's format. */
export interface StatusService extends UrlService {
  format: 'tunasync' | 'mirrorz';
}

/** A mirror site and the services it serves, each row with its source and check date. */
export interface Mirror {
  /** short, lower-case, used on the command line */
  name: string;
  title: string;
  /** the site's root URL */
  url: string;
  pypi?: PypiService;
  conda?: CondaService;
  pytorchWheels?: PytorchWheelsService;
  /** a Docker Hub registry mirror (registry-mirrors in daemon.json) */
  dockerHub?: UrlService;
  /** base of the Miniforge installer releases */
  miniforge?: UrlService;
  /**
   * a mirror of python-build-standalone's GitHub releases (`<url>/<tag>/<file>`),
   * for uv's `python-install-mirror`
   */
  pythonBuilds?: UrlService;
  /** sync status JSON */
  status?: StatusService;
}
