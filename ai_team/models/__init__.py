from . import aia_agent, aia_session
