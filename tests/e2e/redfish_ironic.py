"""OpenStack Ironic's Redfish power and management interfaces (Debian's python3-ironic), run
against gadgetd without an Ironic deployment: no database, no conductor, no API. What stands in
for them is the least the interfaces touch: a node with its driver_info, and a task holding the
node and an exclusive lock (a TaskManager whose constructor, which would lock a database row,
is skipped). Everything the interfaces do from there is Ironic's own code: sushy sessions,
ResetType choices, waiting for the power state, boot device mapping."""
import uuid

from ironic.common import context
from ironic.conductor import task_manager
from ironic.conf import CONF
from ironic.drivers.modules.redfish import management, power

CONF([], project="ironic", default_config_files=[], default_config_dirs=[])
CONF.set_override("power_state_change_timeout", 60, group="conductor")


class Node:
    """The fields of an Ironic node the Redfish interfaces read and write."""

    def __init__(self, url, user, password, system_id):
        self.uuid = str(uuid.uuid4())
        self.driver_info = {"redfish_address": url, "redfish_username": user,
                            "redfish_password": password, "redfish_system_id": system_id,
                            "redfish_verify_ca": False}
        self.driver_internal_info = {}
        self.properties = {}
        self.instance_info = {}
        self.provision_state = "manageable"
        self.target_provision_state = None

    def save(self):
        pass


class Driver:
    def __init__(self):
        self.power = power.RedfishPower()
        self.management = management.RedfishManagement()


class Task(task_manager.TaskManager):
    """A task with an exclusive lock on NODE, as the conductor would hand the interfaces."""

    def __init__(self, node):  # pylint: disable=super-init-not-called
        self._node = node
        self.driver = Driver()
        self.shared = False
        self.context = context.get_admin_context()


def task(url, user, password, system_id):
    return Task(Node(url, user, password, system_id))
