// `anju device add|list|revoke`: device credentials. A secret is shown once, when the device is added.
import { Option, type Command } from 'commander';
import { DEVICE_KINDS, ROOMS } from '../../firmware-protocol/index.ts';
import { type Device } from '../../registry/index.ts';
import { useCommandRegistry } from '../open-registry.ts';
import { printRecord, printRows, registryOptions, type CliIo } from '../options.ts';

export const SECRET_NOTE =
  'The secret is shown only this once: Anju stores only its hash. Give it to the device (or its installer) now.';

function summary(device: Device) {
  return {
    id: device.id,
    kind: device.kind,
    residentId: device.residentId,
    homeId: device.homeId,
    room: device.room,
    status: device.revokedAt === null ? 'active' : 'revoked',
    online: device.online ? 'yes' : 'no',
    lastSeen: device.lastSeen === null ? null : new Date(device.lastSeen).toISOString(),
  };
}

export function register(program: Command, io: CliIo): void {
  const device = program.command('device').description('add, list and revoke devices and their credentials');

  registryOptions(
    device
      .command('add')
      .description('register a device and print its MQTT secret (once)')
      .argument('<id>', 'device id, used as MQTT client id and user name (3-64 of A-Z a-z 0-9 . _ -)')
      .addOption(
        new Option('--kind <kind>', 'what the device is').choices(DEVICE_KINDS).makeOptionMandatory(),
      )
      .option('--resident <id>', "the resident it belongs to (its home is the resident's home)")
      .option('--home <id>', 'the home it is installed in, for a device without one wearer')
      .addOption(new Option('--room <room>', 'room it is installed in').choices(ROOMS))
      .option('--vendor <name>', 'manufacturer')
      .option('--model <name>', 'model'),
  )
    .addHelpText(
      'after',
      `
Example:
  anju device add W-0001 --kind wearable --resident rs_1a2b3c4d5e6f7a8b --vendor Acme --model Band-2
  anju device add G-0001 --kind gas_sensor --home hm_1a2b3c4d5e6f7a8b --room kitchen
`,
    )
    .action(async (id: string, opts) => {
      const { device: added, secret } = await useCommandRegistry(opts, {}, (registry) =>
        registry.addDevice({
          id,
          kind: opts.kind,
          residentId: opts.resident,
          homeId: opts.home,
          room: opts.room,
          vendor: opts.vendor,
          model: opts.model,
        }),
      );
      if (opts.json) {
        printRecord({ ...added, secret }, true, io.stdout);
        io.stderr.write(`${SECRET_NOTE}\n`);
      } else {
        printRecord({ ...summary(added), secret }, false, io.stdout);
        io.stdout.write(`\n${SECRET_NOTE}\n`);
      }
    });

  registryOptions(
    device
      .command('list')
      .description('list devices with their status; secrets are never shown')
      .option('--resident <id>', 'only the devices of this resident')
      .option('--home <id>', 'only the devices in this home'),
  )
    .addHelpText('after', '\nExample:\n  anju device list --resident rs_1a2b3c4d5e6f7a8b --json\n')
    .action(async (opts) => {
      const devices = await useCommandRegistry(opts, { mustExist: true }, (registry) =>
        registry.listDevices({ residentId: opts.resident, homeId: opts.home }),
      );
      printRows(opts.json ? devices : devices.map(summary), opts.json, io.stdout);
    });

  registryOptions(
    device
      .command('revoke')
      .description('revoke a device: its next connection is refused, also by a running server')
      .argument('<id>', 'device id'),
  )
    .addHelpText('after', '\nExample:\n  anju device revoke W-0001\n')
    .action(async (id: string, opts) => {
      const revoked = await useCommandRegistry(opts, { mustExist: true }, (registry) =>
        registry.revokeDevice(id),
      );
      printRecord(opts.json ? revoked : summary(revoked), opts.json, io.stdout);
    });
}
