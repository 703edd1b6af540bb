#!/usr/bin/env node
import { main } from '../dist/ui/main.js';
main(process.argv);
