import { createRequire as __tunaCreateRequire } from 'node:module'; const require = __tunaCreateRequire(import.meta.url);
import{a,b}from"./chunk-KVQ5YKED.js";import"./chunk-EH2VSCPD.js";import"./chunk-4CPN3LHU.js";export{a as create,b as hashFiles};
