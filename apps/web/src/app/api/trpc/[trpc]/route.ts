import { handleApiRequest } from '@hubcap/api';
import { services } from '@/server/services.ts';

const handler = (req: Request) => handleApiRequest(services(), req);

export { handler as GET, handler as POST };
