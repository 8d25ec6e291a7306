"""A via-name backed by a plain dict: the whole Via protocol a Registry implements, for tests."""

import otp


class DictVia:
    def __init__(self, table: dict, key: object) -> None:
        self.table = table
        self.key = key

    def whereis(self):
        return self.table.get(self.key)

    def register(self, pid) -> None:
        if self.key in self.table:
            raise otp.AlreadyRegistered(self.key, self.table[self.key])
        self.table[self.key] = pid

    def unregister(self) -> None:
        self.table.pop(self.key, None)
