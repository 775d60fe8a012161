"""``pb_utils.ModelConfig``: the config a model's static ``auto_complete_config`` completes.

It works on the config as Triton's JSON; the checks and their messages are the Python
backend's, so a model fails the same way under infera as under Triton.
"""

import json


def _py_list(dims):
    return "[" + ", ".join(str(d) for d in dims) + "]"


class ModelConfig:
    def __init__(self, model_config):
        self._model_config = json.loads(model_config) if isinstance(model_config, str) else dict(model_config)
        self._model_config.setdefault("input", [])
        self._model_config.setdefault("output", [])
        self._model_config.setdefault("max_batch_size", 0)

    @property
    def _name(self):
        return str(self._model_config.get("name", ""))

    def as_dict(self):
        return self._model_config

    def set_max_batch_size(self, max_batch_size):
        current = self._model_config.get("max_batch_size", 0)
        if current > max_batch_size:
            raise ValueError(
                f"configuration specified max_batch_size {current}, but in auto-complete-config function "
                f"for model '{self._name}' specified max_batch_size {max_batch_size}"
            )
        self._model_config["max_batch_size"] = max_batch_size

    def set_dynamic_batching(self):
        for other in ("sequence_batching", "ensemble_scheduling"):
            if other in self._model_config:
                raise ValueError(
                    f"Configuration specified scheduling_choice as '{other}', but auto-complete-config "
                    f"function for model '{self._name}' tries to set scheduling_choice as 'dynamic_batching'"
                )
        self._model_config.setdefault("dynamic_batching", {})

    def add_input(self, input):
        self._add("input", input, ["name", "data_type", "dims", "optional"])

    def add_output(self, output):
        self._add("output", output, ["name", "data_type", "dims"])

    def set_model_transaction_policy(self, transaction_policy_dict):
        for key in transaction_policy_dict:
            if key != "decoupled":
                raise ValueError(
                    f"model transaction property in auto-complete-config function for model '{self._name}' "
                    "contains property other than 'decoupled'."
                )
        current = self._model_config.setdefault("model_transaction_policy", {})
        if "decoupled" not in transaction_policy_dict:
            return
        wanted = transaction_policy_dict["decoupled"]
        if "decoupled" in current and current["decoupled"] != wanted:
            raise ValueError(
                f"trying to change decoupled property in auto-complete-config for model '{self._name}', "
                f"which is already set to '{current['decoupled']}'."
            )
        current["decoupled"] = wanted

    def _add(self, kind, tensor, allowed):
        listed = [f"'{k}'" for k in allowed]
        allowed_text = ", ".join(listed[:-1]) + " and " + listed[-1]
        for key in tensor:
            if key not in allowed:
                raise ValueError(
                    f"{kind} '{tensor.get('name')}' in auto-complete-config function for model '{self._name}' "
                    f"contains property other than {allowed_text}."
                )
        if "name" not in tensor:
            raise ValueError(f"{kind} in auto-complete-config function for model '{self._name}' is missing 'name' property.")
        for key in ("data_type", "dims"):
            if key not in tensor:
                raise ValueError(
                    f"{kind} '{tensor['name']}' in auto-complete-config function for model '{self._name}' "
                    f"is missing '{key}' property."
                )
        entries = self._model_config[kind]
        existing = next((e for e in entries if e.get("name") == tensor["name"]), None)
        if existing is None:
            entry = dict(tensor)
            entry["dims"] = list(tensor["dims"])
            entries.append(entry)
            return
        existing_type = existing.get("data_type", "TYPE_INVALID")
        if existing_type != "TYPE_INVALID" and existing_type != tensor["data_type"]:
            raise ValueError(
                f"unable to load model '{self._name}', configuration expects datatype {existing_type} for "
                f"{kind} '{tensor['name']}', model provides {tensor['data_type']}"
            )
        existing_dims = existing.get("dims", [])
        if existing_dims and [int(d) for d in existing_dims] != [int(d) for d in tensor["dims"]]:
            raise ValueError(
                f"model '{self._name}', tensor '{tensor['name']}': the model expects dims {_py_list(tensor['dims'])} "
                f"but the model configuration specifies dims {_py_list(existing_dims)}"
            )
        if (
            kind == "input"
            and "optional" in existing
            and "optional" in tensor
            and existing["optional"] != tensor["optional"]
        ):
            raise ValueError(
                f"model '{self._name}', tensor '{tensor['name']}': the model expects optional {tensor['optional']} "
                f"but the model configuration specifies optional {existing['optional']}"
            )
        existing["data_type"] = tensor["data_type"]
        existing["dims"] = list(tensor["dims"])
        if "optional" in tensor:
            existing["optional"] = tensor["optional"]
